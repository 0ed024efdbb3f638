"""The audit trail is append-only and chained: tampering in the database is detected."""

import csv
import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from crontask import scheduler
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.models.deletion import ProtectedError
from django.urls import reverse
from django.utils import timezone

from hms.core import audit_triggers, tasks
from hms.core.audit import (
    audit_chain_breaks,
    audit_record,
    audit_record_patients,
    audit_seal,
    audit_seal_status,
    event_hash,
    event_mac,
)
from hms.core.models import AuditChainHead, AuditEvent
from hms.core.permissions import Role

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def trail(db, make_user):
    nurse = make_user(Role.NURSE)
    events = [
        audit_record(action=f"test.event{n}", actor=nurse, details={"n": n, "note": "é ✓"})
        for n in range(5)
    ]
    audit_seal()
    return [AuditEvent.objects.get(pk=event.pk) for event in events]


def verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=connection.ops.quote_name(TABLE)), params)


def tamper(sql: str, params=()) -> None:
    """What someone with full control of the database can do: drop the append-only triggers
    (inside the test's transaction, so the next test has them back) and rewrite rows."""
    audit_triggers.remove(connection)
    raw(sql, params)


def breaks() -> dict[str, str]:
    """Every reason found, by row."""
    found: dict[str, str] = {}
    for item in audit_chain_breaks():
        found[item.ref] = f"{found.get(item.ref, '')} {item.reason}".strip()
    return found


def test_an_untouched_trail_verifies(trail):
    assert "5 events verified" in verify()


def test_an_empty_trail_verifies(db):
    assert "0 events verified" in verify()


def test_appending_takes_one_insert_and_no_lock(db, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        audit_record(action="test.one")
    assert captured.captured_queries[0]["sql"].lstrip().upper().startswith("INSERT")
    with django_assert_num_queries(1):
        audit_record_patients(action="test.many", patients=["p1", "p2", "p3"])
    assert AuditEvent.objects.unsealed().count() == 4
    assert not AuditChainHead.objects.filter(seq__gt=0).exists()


def test_the_sealer_links_unsealed_rows_in_insertion_order(db):
    first = [audit_record(action="test.first", details={"n": n}) for n in range(3)]
    assert audit_seal() == 3
    later = [audit_record(action="test.later", details={"n": n}) for n in range(2)]
    assert audit_seal() == 2
    assert audit_seal() == 0
    events = [AuditEvent.objects.get(pk=e.pk) for e in first + later]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:], strict=False))
    assert AuditChainHead.objects.get().seq == 5
    assert "5 events verified" in verify()


def test_a_row_is_signed_at_insert_so_an_unsealed_forgery_is_caught(db):
    event = audit_record(action="test.real", details={"amount": 10})
    tamper("UPDATE {table} SET details = %s WHERE id = %s", ['{"amount": 1000}', event.pk])
    assert "keyed hash" in breaks()[f"unsealed id {event.pk}"]
    with pytest.raises(CommandError, match="tampered"):
        verify()


def test_a_forged_row_inserted_without_the_key_fails_verification(db):
    forged = AuditEvent(occurred_at=timezone.now(), action="auth.login", details={})
    forged.mac = "0" * 64
    forged.save()
    with pytest.raises(CommandError, match="tampered"):
        verify()


def test_the_database_refuses_to_edit_or_delete_audit_rows(trail):
    audit_triggers.install(connection)  # SQLite: lifted after another test's flush
    for sql, params in [
        ("UPDATE {table} SET action = %s WHERE id = %s", ["test.rewritten", trail[0].pk]),
        ("UPDATE {table} SET hash = %s WHERE id = %s", ["f" * 64, trail[0].pk]),
        ("DELETE FROM {table} WHERE id = %s", [trail[0].pk]),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic():
            raw(sql, params)
    assert AuditEvent.objects.get(pk=trail[0].pk).action == "test.event0"


def test_the_database_lets_the_sealer_fill_the_chain_once(db):
    audit_triggers.install(connection)
    event = audit_record(action="test.unsealed")
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE {table} SET seq = 1, hash = %s, action = %s WHERE id = %s",
            ["a" * 64, "test.smuggled", event.pk])  # fmt: skip
    assert audit_seal() == 1
    assert "1 events verified" in verify()


def test_editing_a_rows_content_in_the_database_fails_verification(trail):
    tamper("UPDATE {table} SET action = %s WHERE seq = %s", ["test.harmless", trail[2].seq])
    with pytest.raises(CommandError, match="tampered"):
        verify()
    assert list(breaks()) == [f"#{trail[2].seq}"]


def test_editing_the_details_is_detected_too(trail):
    tamper("UPDATE {table} SET details = %s WHERE seq = %s", ['{"n": 99}', trail[0].seq])
    with pytest.raises(CommandError):
        verify()


def test_rewriting_a_row_and_its_hashes_with_the_key_breaks_the_next_link(trail):
    forged = AuditEvent.objects.get(seq=trail[1].seq)
    forged.actor_email = "someone.else@example.org"
    forged.mac = event_mac(forged)
    tamper(
        "UPDATE {table} SET actor_email = %s, mac = %s, hash = %s WHERE seq = %s",
        [forged.actor_email, forged.mac, event_hash(forged), forged.seq],
    )
    assert "previous-hash" in breaks()[f"#{trail[2].seq}"]
    with pytest.raises(CommandError):
        verify()


def test_deleting_a_row_in_the_middle_fails_verification(trail):
    tamper("DELETE FROM {table} WHERE seq = %s", [trail[2].seq])
    with pytest.raises(CommandError):
        verify()
    assert any("missing" in reason for reason in breaks().values())


def test_deleting_the_newest_rows_fails_verification(trail):
    tamper("DELETE FROM {table} WHERE seq >= %s", [trail[3].seq])
    with pytest.raises(CommandError):
        verify()
    assert any("newest rows were removed" in reason for reason in breaks().values())


def test_verify_reports_unsealed_rows_and_fails_when_the_sealer_stopped(trail):
    audit_record(action="test.fresh")
    assert "Unsealed events: 1." in verify()
    stale = AuditEvent(
        occurred_at=timezone.now() - timedelta(minutes=10), action="test.stale", details={}
    )
    stale.mac = event_mac(stale)
    stale.save()
    assert audit_seal_status().overdue
    with pytest.raises(CommandError, match="is the sealer running"):
        verify()
    call_command("audit_seal", stdout=io.StringIO())
    assert "Unsealed events: 0." in verify()


def test_the_sealer_runs_as_a_periodic_task(db):
    jobs = {job.name: str(job.trigger) for job in scheduler.get_jobs()}
    assert "seal_audit_trail" in jobs
    assert tasks.seal_audit_trail.func() == 0


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
    """What is signed must be exactly what the database gives back, on SQLite and PostgreSQL."""
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
    audit_seal()
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
def test_concurrent_appends_and_a_running_sealer_leave_one_valid_chain(make_user):
    """Writers on separate connections append while a sealer runs: every row is sealed exactly
    once, in one gapless chain. (On SQLite the database serialises writers; on PostgreSQL the
    appends really overlap.)"""
    actor = make_user(Role.DOCTOR)
    threads, per_thread = 6, 8
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit_record(action="test.concurrent", actor=actor, details={"w": worker, "n": n})
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    def seal() -> None:
        try:
            start.wait()
            for _ in range(5):
                audit_seal(batch_size=7)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    workers.append(threading.Thread(target=seal))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors, errors
    audit_seal()
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads * per_thread + 1))
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
    audit_triggers.remove(connection)
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        event.prev_hash = previous
        event.mac = event_mac(event)
        event.hash = event_hash(event)
        raw(
            "UPDATE {table} SET prev_hash = %s, mac = %s, hash = %s WHERE seq = %s",
            [event.prev_hash, event.mac, event.hash, event.seq],
        )
        previous = event.hash
    with connection.cursor() as cursor:
        head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
        cursor.execute(f"UPDATE {head_table} SET hash = %s", [previous])


def test_an_anchor_kept_elsewhere_catches_a_rewritten_chain(trail):
    head = [line for line in verify().splitlines() if line.startswith("Head")][0].split()[-1]
    tamper("UPDATE {table} SET action = %s WHERE seq = %s", ["test.rewritten", trail[1].seq])
    _rehash_from(trail[1].seq)
    verify()  # with the key, the chain alone is consistent again: the limit of a hash chain
    with pytest.raises(CommandError, match="no longer has the hash"):
        call_command("audit_verify", anchor=[head], stdout=io.StringIO())


def test_an_anchor_from_an_untouched_trail_verifies(trail):
    head = [line for line in verify().splitlines() if line.startswith("Head")][0].split()[-1]
    audit_record(action="test.later")
    call_command("audit_verify", anchor=[head], stdout=io.StringIO())


def test_a_malformed_anchor_is_refused(trail):
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit_verify", anchor=["12:abc"], stdout=io.StringIO())
