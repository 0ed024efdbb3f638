"""Phone numbers in E.164 and the phone key table that search uses (issue 8, point 4).

Existing numbers that parse are rewritten in E.164 and indexed; one that does not parse is
kept as typed (shown, not found by number) until someone edits the record.
"""

import django.db.models.deletion
from django.db import migrations, models

from hms.core.phones import phone_normalise
from hms.patients.normalize import digits, phone_tokens

PHONE_FIELDS = ("phone", "emergency_contact_phone", "next_of_kin_phone")


def _normalised(text: str) -> tuple[str, bool]:
    try:
        return phone_normalise(text), True
    except ValueError:
        return text, False


def forward(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    PatientPhoneToken = apps.get_model("patients", "PatientPhoneToken")
    rows = (
        Patient.objects.exclude(phone="", emergency_contact_phone="", next_of_kin_phone="")
        .only("pk", "search_phone", *PHONE_FIELDS)
        .order_by("pk")
    )
    batch = list(rows[:2000])
    while batch:
        tokens = []
        for patient in batch:
            for name in PHONE_FIELDS:
                setattr(patient, name, _normalised(getattr(patient, name))[0])
            patient.search_phone = digits(patient.phone)
            if _normalised(patient.phone)[1]:
                tokens += [
                    PatientPhoneToken(patient_id=patient.pk, token=t)
                    for t in phone_tokens(patient.phone)
                ]
        Patient.objects.bulk_update(batch, [*PHONE_FIELDS, "search_phone"])
        PatientPhoneToken.objects.bulk_create(tokens, ignore_conflicts=True)
        batch = list(rows.filter(pk__gt=batch[-1].pk)[:2000])


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_mrn_from_a_sequence"),
    ]

    operations = [
        migrations.CreateModel(
            name="PatientPhoneToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=20)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="phone_tokens",
                        to="patients.patient",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["token", "patient"], name="patient_phone_token_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("patient", "token"), name="patient_phone_token_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
