"""The audit trail: who did what to which record, from where.

Append, seal, verify: a request appends its rows with plain inserts and a keyed hash (HMAC);
`audit_seal` (a task every minute, or `manage.py audit_seal`) links them into a hash chain;
`manage.py audit_verify` checks keyed hashes, the chain and anchors kept outside the database.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.http import HttpRequest
from django.utils import timezone

from hms.core.models import AuditChainHead, AuditEvent
from hms.core.net import client_ip
from hms.core.patient_cache import is_change, patient_data_changed

GENESIS = "0" * 64
current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def _canonical(event: AuditEvent) -> str:
    content = {
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


def event_mac(event: AuditEvent) -> str:
    """The row's keyed hash, written at insert: without the key (kept out of the database) a
    forged or edited row cannot be given a valid one."""
    key = settings.AUDIT_HMAC_KEY.encode()
    return hmac.new(key, _canonical(event).encode(), hashlib.sha256).hexdigest()


def event_hash(event: AuditEvent) -> str:
    """The chain link, set by the sealer: it covers the previous link, the row's place and its
    content, so rewriting or removing a sealed row breaks every later link."""
    link = f"{event.prev_hash}|{event.seq}|{event.mac}|{_canonical(event)}"
    return hashlib.sha256(link.encode()).hexdigest()


def _build(
    *,
    action: str,
    actor: Any,
    request: HttpRequest | None,
    object_type: str,
    object_id: str,
    patient_ref: str,
    details: dict | None,
    occurred_at=None,
) -> AuditEvent:
    """One unsaved event; actor, IP and user agent default to the current request's."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    # Round-trip through JSON so that what is signed is exactly what the database returns.
    event = AuditEvent(
        occurred_at=occurred_at or timezone.now(),
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        role=getattr(actor, "role", "") or "",
        action=action,
        object_type=_without_nul(object_type),
        object_id=_without_nul(str(object_id)),
        patient_ref=_without_nul(patient_ref),
        ip_address=client_ip(request) if request is not None else None,
        user_agent=_without_nul(request.META.get("HTTP_USER_AGENT", ""))[:300] if request else "",
        details=_without_nul(json.loads(json.dumps(details or {}, default=str))),
    )
    event.mac = event_mac(event)
    return event


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
    """Append one event to the audit trail inside the caller's transaction: a plain insert, no
    lock shared with other writers (the sealer chains it later)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    event = _build(
        action=action,
        actor=actor,
        request=request or current_request.get(),
        object_type=object_type,
        object_id=str(object_id),
        patient_ref="" if patient is None else str(getattr(patient, "pk", patient)),
        details=details,
    )
    event.save()
    if event.patient_ref and is_change(action):
        patient_data_changed([event.patient_ref])
    return event


def audit_record_patients(
    *, action: str, actor: Any = None, patients, details: dict | None = None
) -> list[AuditEvent]:
    """One event per patient (a list or search result shows several), in one insert, so a page of
    100 rows costs one query, not 100. `patients` holds patient ids or Patient objects; repeats
    are recorded once."""
    refs = list(dict.fromkeys(str(getattr(p, "pk", p)) for p in patients if p is not None))
    if not refs:
        return []
    request, now = current_request.get(), timezone.now()
    events = [
        _build(
            action=action,
            actor=actor,
            request=request,
            object_type="patients.patient",
            object_id=ref,
            patient_ref=ref,
            details=details,
            occurred_at=now,
        )
        for ref in refs
    ]
    if is_change(action):
        patient_data_changed(refs)
    return AuditEvent.objects.bulk_create(events)


def audit_seal(batch_size: int = 2000) -> int:
    """Link every unsealed row, in `id` order, into the hash chain; returns how many.

    Only the sealer locks the chain head, so requests never wait for each other. A row whose
    transaction commits after a later row was sealed is simply linked in the next batch: `seq`
    is the order of sealing, and it has no holes.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
            batch = list(AuditEvent.objects.unsealed().order_by("id")[:batch_size])
            if not batch:
                return sealed
            seq, prev_hash, now = head.seq, head.hash, timezone.now()
            for event in batch:
                seq += 1
                event.seq, event.prev_hash, event.sealed_at = seq, prev_hash, now
                event.hash = prev_hash = event_hash(event)
            AuditEvent.objects.bulk_update(batch, ["seq", "prev_hash", "hash", "sealed_at"])
            AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev_hash)
        sealed += len(batch)


@dataclass
class ChainBreak:
    ref: str
    reason: str


def audit_chain_breaks(chunk_size: int = 5000) -> Iterator[ChainBreak]:
    """Walk the sealed chain in order, then the unsealed rows, and yield every place where the
    trail does not hold."""
    expected_prev, expected_seq = GENESIS, 1
    for event in AuditEvent.objects.exclude(seq=None).order_by("seq").iterator(chunk_size):
        ref = f"#{event.seq}"
        if event.seq != expected_seq:
            yield ChainBreak(ref, f"expected event #{expected_seq}: rows are missing")
        if event.prev_hash != expected_prev:
            yield ChainBreak(ref, "previous-hash link does not match the previous row")
        if event_mac(event) != event.mac:
            yield ChainBreak(ref, "content does not match its keyed hash: the row was edited")
        elif event_hash(event) != event.hash:
            yield ChainBreak(ref, "content does not match its chain hash: the row was edited")
        expected_prev, expected_seq = event.hash, event.seq + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, expected_prev):
        yield ChainBreak(
            f"#{head.seq}", "the newest rows were removed: the chain head points further"
        )
    for event in AuditEvent.objects.unsealed().order_by("id").iterator(chunk_size):
        if event_mac(event) != event.mac:
            yield ChainBreak(f"unsealed id {event.pk}", "content does not match its keyed hash")


@dataclass
class SealStatus:
    unsealed: int
    oldest_unsealed_at: datetime | None

    @property
    def overdue(self) -> bool:
        limit = timedelta(seconds=settings.AUDIT_SEAL_MAX_AGE_SECONDS)
        return (
            self.oldest_unsealed_at is not None and timezone.now() - self.oldest_unsealed_at > limit
        )


def audit_seal_status() -> SealStatus:
    found = AuditEvent.objects.unsealed().aggregate(count=Count("id"), oldest=Min("occurred_at"))
    return SealStatus(unsealed=found["count"], oldest_unsealed_at=found["oldest"])
