from django.core.management.base import BaseCommand, CommandError

from hms.core.audit import audit_chain_breaks, audit_seal_status
from hms.core.models import AuditChainHead, AuditEvent


def _anchor(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError(f"--anchor must look like SEQ:HASH (64 hex digits), not {value!r}")
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = (
        "Check the audit trail: every row's keyed hash, the sealed hash chain, and anchors. "
        "Exits non-zero when a row was edited or removed, or when rows wait unsealed longer "
        "than AUDIT_SEAL_MAX_AGE_SECONDS (the sealer is not running). Record the printed head "
        "somewhere else (a ticket, a log server) and pass it later as --anchor: someone with "
        "database access and the key could re-hash the whole chain, but not the copy you kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head printed by an earlier run; the event with that number must still "
            "have that hash",
        )

    def handle(self, *args, anchor: list[str], **options):
        anchors = [_anchor(value) for value in anchor]
        breaks = list(audit_chain_breaks())
        if breaks:
            for item in breaks[:50]:
                self.stderr.write(f"event {item.ref}: {item.reason}")
            raise CommandError(f"The audit trail was tampered with: {len(breaks)} problem(s).")
        for seq, digest in anchors:
            stored = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
            if stored != digest:
                raise CommandError(
                    f"The audit trail was tampered with: event #{seq} no longer has the hash "
                    "recorded earlier (rows up to it were rewritten or removed)."
                )
        status = audit_seal_status()
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {count} events verified."))
        self.stdout.write(f"Unsealed events: {status.unsealed}.")
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is not None and head.seq:
            self.stdout.write(
                f"Head (keep a copy to pass as --anchor later): {head.seq}:{head.hash}"
            )
        if status.overdue:
            raise CommandError(
                f"{status.unsealed} audit events wait unsealed since "
                f"{status.oldest_unsealed_at:%Y-%m-%d %H:%M:%S} UTC: is the sealer running "
                "(the task worker and scheduler, or cron with manage.py audit_seal)?"
            )
