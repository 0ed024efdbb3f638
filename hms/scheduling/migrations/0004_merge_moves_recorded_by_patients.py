from django.db import migrations


def moves_to_patients(apps, schema_editor):
    """scheduling.MergeMove rows become PatientMergeMove rows labelled with the appointment."""
    MergeMove = apps.get_model("scheduling", "MergeMove")
    PatientMerge = apps.get_model("patients", "PatientMerge")
    PatientMergeMove = apps.get_model("patients", "PatientMergeMove")
    merges = {str(pk) for pk in PatientMerge.objects.values_list("pk", flat=True)}
    rows = [
        PatientMergeMove(
            merge_id=move.merge_id,
            label="scheduling.appointment",
            object_id=str(move.appointment_id),
        )
        for move in MergeMove.objects.all()
        if move.merge_id in merges
    ]
    PatientMergeMove.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0003_notifications_moved_to_core"),
        ("patients", "0007_merge_moves_in_one_table"),
    ]

    operations = [
        migrations.RunPython(moves_to_patients, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="MergeMove",
        ),
    ]
