"""Audit rows are appended without a shared lock and sealed into the chain later (see
hms/core/audit.py). Existing rows get their keyed hash and are re-linked with the new chain
formula (anchors printed before this migration no longer match); then triggers make the table
append-only in the database itself."""

from django.conf import settings
from django.db import migrations, models


def reseal_existing_rows(apps, schema_editor):
    from hms.core.audit import event_hash, event_mac

    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    prev_hash, seq = "0" * 64, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        seq += 1
        event.seq, event.prev_hash, event.mac = seq, prev_hash, event_mac(event)
        event.hash = prev_hash = event_hash(event)
        event.sealed_at = event.occurred_at
        event.save(update_fields=["seq", "prev_hash", "mac", "hash", "sealed_at"])
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev_hash})


def install_triggers(apps, schema_editor):
    from hms.core import audit_triggers

    audit_triggers.install(schema_editor.connection)


def remove_triggers(apps, schema_editor):
    from hms.core import audit_triggers

    audit_triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["-id"]},
        ),
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sealed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)), fields=["id"], name="core_audit_unsealed"
            ),
        ),
        migrations.RunPython(reseal_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
