from django.db import migrations


def moves_to_patients(apps, schema_editor):
    """clinical.MergeMove rows (model named by class) become PatientMergeMove rows (by label)."""
    MergeMove = apps.get_model("clinical", "MergeMove")
    PatientMerge = apps.get_model("patients", "PatientMerge")
    PatientMergeMove = apps.get_model("patients", "PatientMergeMove")
    merges = {str(pk) for pk in PatientMerge.objects.values_list("pk", flat=True)}
    rows = [
        PatientMergeMove(
            merge_id=move.merge_id, label=f"clinical.{move.model.lower()}", object_id=move.object_id
        )
        for move in MergeMove.objects.all()
        if move.merge_id in merges
    ]
    PatientMergeMove.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0005_vitals_limits_from_one_table"),
        ("patients", "0007_merge_moves_in_one_table"),
    ]

    operations = [
        migrations.RunPython(moves_to_patients, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="mergemove",
            name="merge_move_once",
        ),
        migrations.DeleteModel(
            name="MergeMove",
        ),
    ]
