"""Bulk Data export: kick-off with Prefer: respond-async, status polling, NDJSON files, for
administrators only; and `manage.py export_fhir`."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class

from hms.accounts.tests.factories import UserFactory
from hms.clinical.tests.factories import AllergyFactory, VitalsFactory
from hms.core.models import AuditEvent
from hms.core.permissions import Role
from hms.fhir.models import ExportJob

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"


def test_an_administrator_kicks_off_polls_and_downloads_ndjson(
    client, token_for, django_capture_on_commit_callbacks
):
    VitalsFactory()
    AllergyFactory()
    admin = token_for(UserFactory(role=Role.ADMIN))
    refused = client.get("/fhir/R4/$export", **admin)
    assert refused.status_code == 400  # no Prefer: respond-async
    with django_capture_on_commit_callbacks(execute=True):
        kick = client.get("/fhir/R4/$export", {"_type": "Patient,Observation,AllergyIntolerance"},
                          HTTP_PREFER="respond-async", **admin)  # fmt: skip
    assert kick.status_code == 202, kick.content
    status_url = kick["Content-Location"]
    assert "/$export-status/" in status_url
    done = client.get(status_url, **admin)
    assert done.status_code == 200, done.content
    manifest = json.loads(done.content)
    assert manifest["requiresAccessToken"] is True
    by_type = {item["type"]: item for item in manifest["output"]}
    assert set(by_type) == {"Patient", "Observation", "AllergyIntolerance"}
    assert by_type["Patient"]["count"] == 2
    response = client.get(by_type["Observation"]["url"], **admin)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == by_type["Observation"]["count"] == 2  # pulse and blood pressure
    for line in lines:
        data = json.loads(line)
        get_fhir_model_class(data["resourceType"]).model_validate(data)
    assert AuditEvent.objects.filter(action="fhir.export.download").exists()
    other_admin = token_for(UserFactory(role=Role.ADMIN))
    assert client.get(status_url, **other_admin).status_code == 404  # only its requester


def test_a_running_export_answers_202_with_progress(client, token_for):
    admin_user = UserFactory(role=Role.ADMIN)
    job = ExportJob.objects.create(requested_by=admin_user, request_url="x")
    response = client.get(f"/fhir/R4/$export-status/{job.pk}", **token_for(admin_user))
    assert response.status_code == 202 and response["X-Progress"] == "accepted"


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PATIENT, Role.RECEPTIONIST])
def test_only_administrators_export(client, token_for, role):
    token = token_for(UserFactory(role=role))
    for url in ("/fhir/R4/$export", "/fhir/R4/Patient/$export"):
        response = client.get(url, HTTP_PREFER="respond-async", **token)
        assert response.status_code == 403
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
    assert not ExportJob.objects.exists()


def test_export_fhir_writes_one_valid_ndjson_file_per_type(tmp_path):
    VitalsFactory()
    call_command("export_fhir", str(tmp_path / "out"), stdout=StringIO())
    files = {p.stem: p for p in (tmp_path / "out").glob("*.ndjson")}
    assert {"Patient", "Observation", "Encounter", "Practitioner"} <= set(files)
    for path in files.values():
        for line in path.read_text().splitlines():
            data = json.loads(line)
            get_fhir_model_class(data["resourceType"]).model_validate(data)
