"""Lists that show several patients audit each one in one batch; the chain still holds."""

import pytest

from hms.core.audit import audit_chain_breaks, audit_record, audit_record_patients
from hms.core.models import AuditEvent
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_a_batch_of_patient_reads_is_chained_like_single_events(make_user):
    clerk = make_user(Role.RECEPTIONIST)
    audit_record(action="before", actor=clerk)
    events = audit_record_patients(action="x.list_view", actor=clerk, patients=["a", "b", "a"])
    audit_record(action="after", actor=clerk)
    assert [e.patient_ref for e in events] == ["a", "b"]
    assert list(audit_chain_breaks()) == []
    assert AuditEvent.objects.filter(action="x.list_view", actor=clerk).count() == 2


def test_a_batch_costs_a_fixed_number_of_queries(make_user, django_assert_max_num_queries):
    clerk = make_user(Role.RECEPTIONIST)
    audit_record(action="warm", actor=clerk)
    with django_assert_max_num_queries(6):
        audit_record_patients(action="x.list_view", actor=clerk, patients=list(range(100)))


def test_an_empty_batch_writes_nothing(make_user):
    assert audit_record_patients(action="x", actor=make_user(Role.NURSE), patients=[]) == []
    assert not AuditEvent.objects.filter(action="x").exists()
