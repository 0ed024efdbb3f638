import django.db.models.deletion
from django.db import migrations, models


def moves_from_json(apps, schema_editor):
    """Each id listed in a merge's `moved` JSON becomes a PatientMergeMove row."""
    PatientMerge = apps.get_model("patients", "PatientMerge")
    PatientMergeMove = apps.get_model("patients", "PatientMergeMove")
    rows = [
        PatientMergeMove(merge_id=merge.pk, label=label, object_id=str(object_id))
        for merge in PatientMerge.objects.exclude(moved={})
        for label, ids in merge.moved.items()
        for object_id in ids
    ]
    PatientMergeMove.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_drop_unused_trigram_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="PatientMergeMove",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(max_length=100)),
                ("object_id", models.CharField(max_length=64)),
                (
                    "merge",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="moves",
                        to="patients.patientmerge",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("merge", "label", "object_id"), name="patient_merge_move_once"
                    )
                ],
            },
        ),
        migrations.RunPython(moves_from_json, migrations.RunPython.noop),
    ]
