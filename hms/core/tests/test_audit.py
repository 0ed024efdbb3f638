"""The audit trail is append-only and chained: tampering in the database is detected."""

import csv
import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.models.deletion import ProtectedError
from django.urls import reverse

from hms.core.audit import audit_chain_breaks, audit_record, event_hash
from hms.core.models import AuditChainHead, AuditEvent
from hms.core.permissions import Role

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def trail(db, make_user):
    nurse = make_user(Role.NURSE)
    return [
        audit_record(action=f"test.event{n}", actor=nurse, details={"n": n, "note": "é ✓"})
        for n in range(5)
    ]


def verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=connection.ops.quote_name(TABLE)), params)


def test_an_untouched_trail_verifies(trail):
    assert "5 events verified" in verify()


def test_an_empty_trail_verifies(db):
    assert "0 events verified" in verify()


def test_editing_a_rows_content_in_the_database_fails_verification(trail):
    raw("UPDATE {table} SET action = %s WHERE seq = %s", ["test.harmless", trail[2].seq])
    with pytest.raises(CommandError, match="tampered"):
        verify()
    assert [b.seq for b in audit_chain_breaks()] == [trail[2].seq]


def test_editing_the_details_is_detected_too(trail):
    raw("UPDATE {table} SET details = %s WHERE seq = %s", ['{"n": 99}', trail[0].seq])
    with pytest.raises(CommandError):
        verify()


def test_rewriting_a_row_and_its_hash_breaks_the_next_link(trail):
    forged = AuditEvent.objects.get(seq=trail[1].seq)
    forged.actor_email = "someone.else@example.org"
    new_hash = event_hash(forged)
    raw(
        "UPDATE {table} SET actor_email = %s, hash = %s WHERE seq = %s",
        [forged.actor_email, new_hash, forged.seq],
    )
    reasons = {b.seq: b.reason for b in audit_chain_breaks()}
    assert "previous-hash" in reasons[trail[2].seq]
    with pytest.raises(CommandError):
        verify()


def test_deleting_a_row_in_the_middle_fails_verification(trail):
    raw("DELETE FROM {table} WHERE seq = %s", [trail[2].seq])
    with pytest.raises(CommandError):
        verify()
    assert any("missing" in b.reason for b in audit_chain_breaks())


def test_deleting_the_newest_rows_fails_verification(trail):
    raw("DELETE FROM {table} WHERE seq >= %s", [trail[3].seq])
    with pytest.raises(CommandError):
        verify()
    assert any("newest rows were removed" in b.reason for b in audit_chain_breaks())


def test_the_app_refuses_to_edit_or_delete_audit_events(trail):
    event = AuditEvent.objects.get(seq=trail[0].seq)
    event.action = "test.rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(seq=trail[0].seq).update(action="test.rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(seq=trail[0].seq).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 5
    assert "5 events verified" in verify()


def test_awkward_details_still_verify(db):
    """What is hashed must be exactly what the database gives back, on SQLite and PostgreSQL."""
    audit_record(
        action="test.awkward",
        details={
            "float": 0.1,
            "big": 2**53 + 1,
            "decimal": Decimal("12.30"),
            "when": date(2026, 2, 29 - 1),
            "nested": {"b": [1, {"z": None, "a": True}], "a": ""},
            "text": 'naïve café ✓ \u2028 "quoted" \\ back',
            "emoji": "🩺",
        },
        object_id=12345,
    )
    assert "1 events verified" in verify()


def test_a_user_with_audit_rows_cannot_be_deleted(trail):
    with pytest.raises(ProtectedError):
        trail[0].actor.delete()


def test_each_event_records_who_and_from_where(client_for):
    client = client_for(Role.ADMIN)
    client.get(reverse("core:audit-list"), {"format": "csv"}, HTTP_USER_AGENT="Ward PC 7")
    event = AuditEvent.objects.get(action="audit.export")
    assert event.actor == client.user
    assert event.role == "admin"
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "Ward PC 7"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_event_exists", [True, False], ids=["chain started", "empty"])
def test_concurrent_appends_leave_one_valid_chain(make_user, first_event_exists):
    actor = make_user(Role.DOCTOR)
    if first_event_exists:
        audit_record(action="test.start", actor=actor)
    threads, per_thread = 6, 8
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit_record(action="test.concurrent", actor=actor, details={"w": worker, "n": n})
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors, errors
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads * per_thread + 1 + first_event_exists))
    assert list(audit_chain_breaks()) == []
    verify()


# --- The audit page ---------------------------------------------------------------------------


@pytest.fixture
def varied_trail(db, make_user):
    nurse = make_user(Role.NURSE, email="nurse.audit@example.org")
    doctor = make_user(Role.DOCTOR, email="doctor.audit@example.org")
    audit_record(action="auth.login", actor=nurse)
    audit_record(action="auth.login_failed", details={"attempted_email": "x@example.org"})
    audit_record(action="patient.view", actor=doctor, patient="p-123")
    audit_record(action="patient.view", actor=doctor, patient="p-456")
    audit_record(
        action="test.injection",
        actor=nurse,
        object_type="core.thing",
        object_id='=HYPERLINK("http://evil.example","click")',
        details={"note": "+1+2"},
    )
    return nurse, doctor


def _listed(response) -> list[str]:
    return [event.action for event in response.context["page"]]


def test_the_audit_page_filters_by_action_actor_patient_and_date(client_for, varied_trail):
    client = client_for(Role.ADMIN)
    url = reverse("core:audit-list")
    assert set(_listed(client.get(url, {"action": "auth."}))) == {"auth.login", "auth.login_failed"}
    assert _listed(client.get(url, {"actor": "DOCTOR.audit"})) == ["patient.view"] * 2
    assert len(_listed(client.get(url, {"patient": "p-123"}))) == 1
    today = AuditEvent.objects.first().occurred_at.date()
    assert len(_listed(client.get(url, {"date_from": today, "date_to": today}))) >= 5
    tomorrow = today + timedelta(days=1)
    assert _listed(client.get(url, {"date_from": tomorrow})) == []


def test_a_reversed_date_range_is_a_form_error_not_a_crash(client_for, varied_trail):
    client = client_for(Role.ADMIN)
    response = client.get(
        reverse("core:audit-list"), {"date_from": "2026-02-02", "date_to": "2026-01-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date_to"]


def test_the_audit_page_runs_a_bounded_number_of_queries(
    client_for, varied_trail, django_assert_max_num_queries
):
    client = client_for(Role.ADMIN)
    for n in range(60):
        audit_record(action="test.bulk", details={"n": n})
    with django_assert_max_num_queries(12):
        response = client.get(reverse("core:audit-list"))
    assert len(response.context["page"]) == 50


def _csv_rows(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_csv_export_streams_the_filtered_rows(client_for, varied_trail):
    client = client_for(Role.ADMIN)
    response = client.get(reverse("core:audit-list"), {"format": "csv", "action": "patient."})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = _csv_rows(response)
    assert header[:5] == ["seq", "occurred_at", "actor_email", "role", "action"]
    assert [row[4] for row in rows] == ["patient.view", "patient.view"]
    assert AuditEvent.objects.filter(action="audit.export", actor=client.user).exists()


def test_the_csv_export_neutralises_spreadsheet_formulas(client_for, varied_trail):
    client = client_for(Role.ADMIN)
    response = client.get(reverse("core:audit-list"), {"format": "csv", "action": "test.injection"})
    header, row = _csv_rows(response)
    cells = dict(zip(header, row, strict=True))
    assert cells["object_id"].startswith("'=")
    for value in row:
        assert value[:1] not in ("=", "+", "-", "@"), value


def test_nul_characters_never_make_an_audit_write_fail(db):
    """PostgreSQL refuses NUL in text and JSON; the event is kept without it."""
    event = audit_record(
        action="test.nul",
        object_type="core.thing",
        object_id="id\x00x",
        patient="p\x00",
        details={"q": "a\x00b", "list": ["\x00"], "k\x00ey": 1},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.details == {"q": "ab", "list": [""], "key": 1}
    assert stored.object_id == "idx" and stored.patient_ref == "p"
    assert "1 events verified" in verify()


def _rehash_from(seq: int) -> None:
    """What someone with database access and this source code could do: rewrite the chain."""
    previous = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        event.prev_hash = previous
        event.hash = event_hash(event)
        raw(
            "UPDATE {table} SET prev_hash = %s, hash = %s WHERE seq = %s",
            [event.prev_hash, event.hash, event.seq],
        )
        previous = event.hash
    with connection.cursor() as cursor:
        head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
        cursor.execute(f"UPDATE {head_table} SET hash = %s", [previous])


def test_an_anchor_kept_elsewhere_catches_a_rewritten_chain(trail):
    head = [line for line in verify().splitlines() if line.startswith("Head")][0].split()[-1]
    raw("UPDATE {table} SET action = %s WHERE seq = %s", ["test.rewritten", trail[1].seq])
    _rehash_from(trail[1].seq)
    verify()  # the chain alone is consistent again: that is the limit of a plain hash chain
    with pytest.raises(CommandError, match="no longer has the hash"):
        call_command("audit_verify", anchor=[head], stdout=io.StringIO())


def test_an_anchor_from_an_untouched_trail_verifies(trail):
    head = [line for line in verify().splitlines() if line.startswith("Head")][0].split()[-1]
    audit_record(action="test.later")
    call_command("audit_verify", anchor=[head], stdout=io.StringIO())


def test_a_malformed_anchor_is_refused(trail):
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit_verify", anchor=["12:abc"], stdout=io.StringIO())
