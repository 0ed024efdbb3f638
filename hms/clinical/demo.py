"""Demo clinical histories: a few past encounters per demo patient, with vitals, ICD-10 coded
diagnoses, allergies, prescriptions, signed SOAP notes and released lab results.

Idempotent (patients who already have encounters are left alone) and quick: rows are built in
memory and written with bulk_create, with BMI and every flag computed by the same rules as the
services.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from hms.accounts.models import User
from hms.clinical import rules
from hms.clinical.models import (
    ICD10_SYSTEM,
    Allergy,
    ClinicalNote,
    Diagnosis,
    Encounter,
    LabOrder,
    LabResult,
    Prescription,
    Vitals,
)
from hms.core.demo import DemoContext
from hms.core.models import Department
from hms.core.permissions import Role
from hms.patients.models import Patient

# (ICD-10-CM code, description, drug, strength, dose, frequency, duration, lab test LOINC)
PROBLEMS = [
    ("I10", "Essential (primary) hypertension", "Amlodipine", "5 mg", "1 tablet", "once daily",
     "ongoing", "2823-3"),
    ("E11.9", "Type 2 diabetes mellitus without complications", "Metformin", "500 mg",
     "1 tablet", "twice daily", "ongoing", "59261-8"),
    ("J45.909", "Unspecified asthma, uncomplicated", "Salbutamol inhaler", "100 micrograms",
     "2 puffs", "as needed", "ongoing", None),
    ("J06.9", "Acute upper respiratory infection, unspecified", "Paracetamol", "500 mg",
     "2 tablets", "four times a day", "5 days", "1988-5"),
    ("M54.50", "Low back pain, unspecified", "Ibuprofen", "400 mg", "1 tablet",
     "three times a day", "7 days", None),
    ("N39.0", "Urinary tract infection, site not specified", "Nitrofurantoin", "100 mg",
     "1 capsule", "twice daily", "3 days", "6690-2"),
    ("E78.5", "Hyperlipidemia, unspecified", "Atorvastatin", "20 mg", "1 tablet", "at night",
     "ongoing", "2093-3"),
    ("E03.9", "Hypothyroidism, unspecified", "Levothyroxine", "50 micrograms", "1 tablet",
     "once daily", "ongoing", "3016-3"),
    ("D50.9", "Iron deficiency anemia, unspecified", "Ferrous sulfate", "200 mg", "1 tablet",
     "twice daily", "3 months", "718-7"),
    ("J02.9", "Acute pharyngitis, unspecified", "Phenoxymethylpenicillin", "500 mg",
     "1 tablet", "four times a day", "10 days", "6690-2"),
]  # fmt: skip

ALLERGIES = [
    ("Penicillin", "Urticaria", "moderate"),
    ("Peanuts", "Anaphylaxis", "severe"),
    ("Latex", "Contact dermatitis", "mild"),
    ("Aspirin", "Bronchospasm", "severe"),
    ("Codeine", "Nausea and vomiting", "mild"),
]


def _vitals(ctx, patient, encounter, when, nurse, unwell: bool) -> Vitals:
    height = Decimal(ctx.rng.randint(152, 192))
    weight = Decimal(ctx.rng.randint(50, 110))
    values = {
        "temperature_c": Decimal(str(round(ctx.rng.uniform(37.8, 39.2) if unwell
                                           else ctx.rng.uniform(36.2, 37.2), 1))),
        "pulse_per_min": ctx.rng.randint(88, 118) if unwell else ctx.rng.randint(58, 92),
        "systolic_mmhg": ctx.rng.randint(105, 165),
        "diastolic_mmhg": ctx.rng.randint(62, 98),
        "respiratory_rate_per_min": ctx.rng.randint(12, 24),
        "spo2_percent": ctx.rng.randint(93, 100),
        "weight_kg": weight,
        "height_cm": height,
    }  # fmt: skip
    bmi = rules.bmi_of(weight, height)
    return Vitals(
        patient=patient,
        encounter=encounter,
        recorded_at=when + timedelta(minutes=5),
        recorded_by=nurse,
        bmi=bmi,
        flags=rules.vital_flags({**values, "bmi": bmi}),
        **values,
    )


def _lab(ctx, patient, encounter, code, when, doctor, lab_user):
    name, unit, low, high, crit_low, crit_high, *_plausible = rules.LAB_TESTS[code]
    low_d = Decimal(low) if low else None
    high_d = Decimal(high) if high else None
    centre = ((low_d or Decimal(0)) + (high_d or Decimal(10))) / 2
    spread = ((high_d or centre * 2) - (low_d or Decimal(0))) or Decimal(1)
    value = (centre + spread * Decimal(str(ctx.rng.uniform(-0.8, 0.8)))).quantize(Decimal("0.1"))
    value = max(value, Decimal("0.1"))
    order = LabOrder(
        patient=patient,
        encounter=encounter,
        test_code=code,
        test_name=name,
        status="resulted",
        ordered_at=when + timedelta(minutes=20),
        ordered_by=doctor,
        collected_at=when + timedelta(minutes=40),
        resulted_at=when + timedelta(hours=4),
    )
    result = LabResult(
        order=order,
        patient=patient,
        analyte=name,
        value=value,
        unit=unit,
        reference_low=low_d,
        reference_high=high_d,
        critical_low=Decimal(crit_low) if crit_low else None,
        critical_high=Decimal(crit_high) if crit_high else None,
        flag=rules.lab_flag(
            value, low=low, high=high, critical_low=crit_low, critical_high=crit_high
        ),
        resulted_at=when + timedelta(hours=4),
        resulted_by=lab_user,
        released_to_patient=True,
        released_at=when + timedelta(hours=6),
    )
    return order, result


def seed(ctx: DemoContext) -> None:
    doctor = User.objects.filter(email="doctor@demo.hms").first()
    nurse = User.objects.filter(email="nurse@demo.hms").first()
    lab_user = User.objects.filter(role=Role.LAB).first()
    if doctor is None or nurse is None:
        return
    department = Department.objects.filter(slug="general-medicine").first()
    done = set(Encounter.objects.values_list("patient_id", flat=True).distinct())
    patients = [
        p
        for p in Patient.objects.filter(merged_into__isnull=True).order_by("mrn")[: ctx.patients]
        if p.pk not in done
    ]
    own = Patient.objects.filter(user__email="patient@demo.hms").first()
    if own is not None and own.pk not in done and own not in patients:
        patients.append(own)
    now = timezone.now()
    rows: dict[type, list] = {model: [] for model in (Encounter, Vitals, Diagnosis, Allergy,
                                                      Prescription, ClinicalNote, LabOrder,
                                                      LabResult)}  # fmt: skip
    for patient in patients:
        if ctx.rng.random() < 0.35 or patient == own:
            substance, reaction, severity = ctx.rng.choice(ALLERGIES)
            rows[Allergy].append(
                Allergy(
                    patient=patient,
                    substance=substance,
                    reaction=reaction,
                    severity=severity,
                    recorded_by=doctor,
                    recorded_at=now - timedelta(days=900),
                )  # fmt: skip
            )
        chronic = ctx.rng.sample(PROBLEMS, 2)
        for visit in range(ctx.rng.randint(1, 3)):
            started = now - timedelta(days=ctx.rng.randint(20, 700), hours=ctx.rng.randint(0, 6))
            problem = chronic[visit % 2]
            code, description, drug, strength, dose, frequency, duration, lab = problem
            acute = duration != "ongoing"
            encounter = Encounter(
                patient=patient,
                kind="emergency" if acute and ctx.rng.random() < 0.2 else "outpatient",
                status="closed",
                practitioner=doctor,
                department=department,
                reason=description,
                started_at=started,
                ended_at=started + timedelta(minutes=25),
            )
            rows[Encounter].append(encounter)
            rows[Vitals].append(_vitals(ctx, patient, encounter, started, nurse, unwell=acute))
            rows[Diagnosis].append(
                Diagnosis(patient=patient, encounter=encounter, code_system=ICD10_SYSTEM,
                          code=code, code_display=description,
                          status="resolved" if acute else "active",
                          onset_date=started.date(), recorded_at=started, recorded_by=doctor)
            )  # fmt: skip
            rows[Prescription].append(
                Prescription(patient=patient, encounter=encounter, drug=drug, strength=strength,
                             dose=dose, route="inhaled" if "inhaler" in drug else "oral",
                             frequency=frequency, duration=duration,
                             quantity=ctx.rng.choice([14, 28, 56]),
                             status="completed" if acute else "active",
                             prescribed_at=started + timedelta(minutes=20), prescriber=doctor)
            )  # fmt: skip
            rows[ClinicalNote].append(
                ClinicalNote(
                    patient=patient, encounter=encounter, author=doctor,
                    subjective=f"Presents with symptoms of {description.lower()}.",
                    objective="Alert and oriented. Observations as recorded.",
                    assessment=description,
                    plan=f"{drug} {strength}, {dose} {frequency}. Review in "
                    f"{'one week' if acute else 'three months'}.",
                    signed_at=started + timedelta(minutes=30), signed_by=doctor,
                )
            )  # fmt: skip
            if lab:
                order, result = _lab(ctx, patient, encounter, lab, started, doctor, lab_user)
                rows[LabOrder].append(order)
                rows[LabResult].append(result)
    for model, objects in rows.items():
        model.objects.bulk_create(objects, batch_size=500)
    # Notes were written during their encounter, not today (created_at is set on insert).
    for note in rows[ClinicalNote]:
        ClinicalNote.objects.filter(pk=note.pk).update(
            created_at=note.signed_at - timedelta(minutes=5)
        )
    if patients:
        ctx.out.write(f"Clinical histories for {len(patients)} patients.")
