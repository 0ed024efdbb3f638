from django.db import migrations


class Migration(migrations.Migration):
    """Apart from 0006: PostgreSQL will not alter a table while the rows 0006 wrote still have
    foreign-key checks pending in the same transaction."""

    dependencies = [
        ("patients", "0007_merge_moves_in_one_table"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="patientmerge",
            name="moved",
        ),
    ]
