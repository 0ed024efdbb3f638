"""Notifications moved down to core (clinical notifies too, and may not import scheduling): the
rows are copied to core's table, then scheduling's is dropped."""

from django.db import migrations

FIELDS = ("user_id", "title", "body", "url", "created_at", "read_at")


def copy_to_core(apps, schema_editor):
    old = apps.get_model("scheduling", "Notification")
    new = apps.get_model("core", "Notification")
    rows = [
        new(**dict(zip(FIELDS, values, strict=True))) for values in old.objects.values_list(*FIELDS)
    ]
    new.objects.bulk_create(rows, batch_size=1000)


def copy_back(apps, schema_editor):
    old = apps.get_model("scheduling", "Notification")
    new = apps.get_model("core", "Notification")
    rows = [
        old(**dict(zip(FIELDS, values, strict=True))) for values in new.objects.values_list(*FIELDS)
    ]
    old.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_no_overlapping_appointments"),
        ("core", "0003_notifications"),
    ]

    operations = [
        migrations.RunPython(copy_to_core, copy_back),
        migrations.RemoveIndex(model_name="notification", name="scheduling__user_id_f2c030_idx"),
        migrations.DeleteModel(name="Notification"),
    ]
