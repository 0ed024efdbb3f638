"""The API answers as its OpenAPI schema (/api/schema/) says: schemathesis generates requests
for every operation from the schema itself, sends them to the WSGI application with an
administrator's and a patient's token, and checks that no answer is a server error and that
every documented answer matches its documented body.

Bounded (a few examples per operation, derandomised) so that it runs in a minute or two; run
it with more examples by setting SCHEMATHESIS_EXAMPLES. Error answers are checked too: the
schema documents the error shape as every operation's `default` answer.

It drives schemathesis' Python API (one Hypothesis run per operation, failures of all the
operations listed at once) rather than its pytest plugin, whose lazy fixture loader does not
work with pytest 9 (it sets a private node id attribute that pytest 9 no longer has).
"""

import os
from datetime import date, datetime, time, timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hms.accounts.services import api_token_issue
from hms.core.permissions import Role

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(db):
    """The schema as served, bound to the WSGI application. Requests keep the test's database
    connection open, as Django's test client does (each request would otherwise close it)."""
    from config.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(make_user):
    """An administrator's and a patient's tokens; the patient has an appointment and an
    encounter with a lab order and a note, so that lists and details answer with real rows
    (whose bodies are checked against the schema)."""
    from hms.clinical.tests.factories import EncounterFactory, LabOrderFactory, NoteFactory
    from hms.scheduling.services import appointment_book
    from hms.scheduling.slots import local_zone
    from hms.scheduling.tests.factories import PortalPatientFactory, weekly_schedule

    schedule = weekly_schedule(start=time(8, 0), end=time(18, 0))
    patient = PortalPatientFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)
    appointment_book(
        actor=patient.user,
        patient=patient,
        practitioner=schedule.practitioner,
        start=datetime.combine(tomorrow, time(10, 0), tzinfo=local_zone()),
    )
    encounter = EncounterFactory(patient=patient, practitioner=schedule.practitioner)
    LabOrderFactory(encounter=encounter)
    NoteFactory(encounter=encounter)
    admin = make_user(Role.ADMIN)
    return [api_token_issue(user=user)[0] for user in (admin, patient.user)]


def test_every_operation_answers_without_a_server_error_and_as_documented(api_schema, tokens):
    failures = []
    for loaded in api_schema.get_all_operations():
        operation = loaded.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # a failure is reported, not shrunk
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            for token in tokens:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {token}"},
                    checks=CHECKS,
                )

        try:
            answers_as_documented()
        except (AssertionError, BaseExceptionGroup) as exc:  # listed for every operation at once
            failures.append(f"{operation.label}: {exc}"[:2500])
    assert not failures, "\n\n".join(failures)


def test_a_possible_duplicate_registration_answers_the_documented_409(api_schema, make_user):
    from hms.patients.tests.factories import PatientFactory

    PatientFactory(given_name="Amara", family_name="Okafor", birth_date=date(1988, 4, 12))
    token = api_token_issue(user=make_user(Role.RECEPTIONIST))[0]
    case = api_schema["/api/v1/patients/"]["POST"].Case(
        body={"given_name": "Amara", "family_name": "Okafor", "birth_date": "1988-04-12"},
        media_type="application/json",
    )
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    assert response.status_code == 409
    assert response.json()["error"]["matches"]
