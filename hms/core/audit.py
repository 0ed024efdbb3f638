"""The audit trail: who did what to which record, from where, chained so tampering shows."""

import hashlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from hms.core.models import AuditChainHead, AuditEvent
from hms.core.net import client_ip

GENESIS = "0" * 64
current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def _canonical(event: AuditEvent) -> str:
    content = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(timezone.UTC).isoformat(),
        "actor": event.actor_id,
        "actor_email": event.actor_email,
        "role": event.role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "patient": event.patient_ref,
        "ip": event.ip_address,
        "user_agent": event.user_agent,
        "details": event.details,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def _without_nul(value):
    """PostgreSQL refuses NUL characters in text and JSON: an audit row must never fail on one
    (a search for "\x00" is still recorded, without the NUL)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256((event.prev_hash + _canonical(event)).encode()).hexdigest()


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    patient: Any = None,
    details: dict | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event to the audit trail inside the caller's transaction.

    Actor, IP and user agent default to the current request's. Appends are serialised by a
    row lock on the chain head, so two writers can never link to the same previous hash.
    """
    request = request or current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    patient_ref = "" if patient is None else str(getattr(patient, "pk", patient))
    # Round-trip through JSON so that what is hashed is exactly what the database returns.
    user_agent = _without_nul(request.META.get("HTTP_USER_AGENT", ""))[:300] if request else ""
    clean_details = _without_nul(json.loads(json.dumps(details or {}, default=str)))
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            occurred_at=timezone.now(),
            actor=actor,
            actor_email=getattr(actor, "email", "") or "",
            role=getattr(actor, "role", "") or "",
            action=action,
            object_type=_without_nul(object_type),
            object_id=_without_nul(str(object_id)),
            patient_ref=_without_nul(patient_ref),
            ip_address=client_ip(request) if request is not None else None,
            user_agent=user_agent,
            details=clean_details,
            prev_hash=head.hash,
        )
        event.hash = event_hash(event)
        event.save()
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


@dataclass
class ChainBreak:
    seq: int
    reason: str


def audit_chain_breaks(chunk_size: int = 5000) -> Iterator[ChainBreak]:
    """Walk the whole chain in order and yield every place where it does not hold."""
    expected_prev = GENESIS
    expected_seq = 1
    last_hash = GENESIS
    last_seq = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            yield ChainBreak(event.seq, f"expected event #{expected_seq}: rows are missing")
        if event.prev_hash != expected_prev:
            yield ChainBreak(event.seq, "previous-hash link does not match the previous row")
        if event_hash(event) != event.hash:
            yield ChainBreak(event.seq, "content does not match its hash: the row was edited")
        expected_prev = event.hash
        expected_seq = event.seq + 1
        last_hash, last_seq = event.hash, event.seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (last_seq, last_hash):
        yield ChainBreak(last_seq, "the newest rows were removed: the chain head points further")


def audit_record_patients(
    *, action: str, actor: Any = None, patients, details: dict | None = None
) -> list[AuditEvent]:
    """One event per patient (a list or search result shows several), appended in one go: one
    lock on the chain head and one insert, so a page of 100 rows costs three queries, not 300.
    `patients` holds patient ids or Patient objects; repeats are recorded once."""
    refs = [str(getattr(p, "pk", p)) for p in patients if p is not None]
    refs = list(dict.fromkeys(refs))
    if not refs:
        return []
    request = current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    user_agent = _without_nul(request.META.get("HTTP_USER_AGENT", ""))[:300] if request else ""
    clean_details = _without_nul(json.loads(json.dumps(details or {}, default=str)))
    ip_address = client_ip(request) if request is not None else None
    now = timezone.now()
    # No savepoint: a failed audit write must fail the caller's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        seq, prev_hash, events = head.seq, head.hash, []
        for ref in refs:
            seq += 1
            event = AuditEvent(
                seq=seq,
                occurred_at=now,
                actor=actor,
                actor_email=getattr(actor, "email", "") or "",
                role=getattr(actor, "role", "") or "",
                action=action,
                object_type="patients.patient",
                object_id=_without_nul(ref),
                patient_ref=_without_nul(ref),
                ip_address=ip_address,
                user_agent=user_agent,
                details=clean_details,
                prev_hash=prev_hash,
            )
            event.hash = prev_hash = event_hash(event)
            events.append(event)
        AuditEvent.objects.bulk_create(events)
        AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev_hash)
    return events
