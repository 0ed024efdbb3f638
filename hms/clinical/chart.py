"""The clinical record's sections of the patient chart (the page belongs to the patients app).

Each loader runs a fixed number of queries whatever the size of the history: one query per
list, each capped. Staff sections are keyed by the permission that reads that part of the record;
patients get their own portal sections (signed notes, released results, medicines, allergies).
"""

from dataclasses import dataclass

from django.db.models import Prefetch

from hms.clinical.models import (
    Allergy,
    AllergyStatus,
    Attachment,
    ClinicalNote,
    Diagnosis,
    Encounter,
    LabResult,
    NoteAmendment,
    Prescription,
    Vitals,
)
from hms.core.chart import ChartSection, register_section
from hms.core.memo import once_per_request
from hms.core.permissions import Perm

LIMIT = 50


def _allergies_of(patient) -> list[Allergy]:
    """Every allergy of the patient, read once per request: the banner shows the active ones and
    the medications section all of them."""
    return once_per_request(
        ("chart_allergies", patient.pk), lambda: list(Allergy.objects.filter(patient=patient))
    )


def load_allergies(*, patient, user=None) -> dict:
    return {"allergies": [a for a in _allergies_of(patient) if a.status == AllergyStatus.ACTIVE]}


def load_problems(*, patient, user=None) -> dict:
    diagnoses = list(Diagnosis.objects.filter(patient=patient).order_by("status", "-recorded_at"))
    return {
        "problems": [d for d in diagnoses if d.status == "active"][:LIMIT],
        "past_problems": [d for d in diagnoses if d.status != "active"][:LIMIT],
    }


def load_medications(*, patient, user=None) -> dict:
    prescriptions = list(
        Prescription.objects.filter(patient=patient)
        .select_related("prescriber")
        .order_by("-prescribed_at")[:LIMIT]
    )
    return {
        "medications": [p for p in prescriptions if p.status == "active"],
        "past_medications": [p for p in prescriptions if p.status != "active"][:10],
        "allergies": _allergies_of(patient),
    }


@dataclass
class TrendLine:
    label: str
    colour: str
    points: str
    dots: list[tuple[str, str]]
    last: object


@dataclass
class Trend:
    width: int
    height: int
    lines: list[TrendLine]
    first: object
    last: object
    low: int
    high: int


def vitals_trend(vitals: list[Vitals], *, width: int = 600, height: int = 160) -> Trend | None:
    """Server-side SVG polylines of blood pressure and pulse over time (oldest on the left)."""
    series = {
        "Systolic (mmHg)": ("#dc3545", "systolic_mmhg"),
        "Diastolic (mmHg)": ("#0d6efd", "diastolic_mmhg"),
        "Pulse (/min)": ("#198754", "pulse_per_min"),
    }
    rows = sorted(vitals, key=lambda v: v.recorded_at)
    values = [getattr(v, f) for v in rows for _, f in series.values() if getattr(v, f) is not None]
    if len(rows) < 2 or not values:
        return None
    low, high = min(min(values), 40), max(max(values), 160)
    start, end = rows[0].recorded_at.timestamp(), rows[-1].recorded_at.timestamp()
    span = max(end - start, 1.0)
    pad = 8

    def x(v):
        return pad + (v.recorded_at.timestamp() - start) / span * (width - 2 * pad)

    def y(value):
        return height - pad - (float(value) - low) / (high - low) * (height - 2 * pad)

    lines = []
    for label, (colour, field) in series.items():
        pts = [(x(v), y(getattr(v, field))) for v in rows if getattr(v, field) is not None]
        if pts:
            last = next(getattr(v, field) for v in reversed(rows) if getattr(v, field) is not None)
            points = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            dots = [(f"{px:.1f}", f"{py:.1f}") for px, py in pts]
            lines.append(TrendLine(label, colour, points, dots, last))
    return Trend(width, height, lines, rows[0].recorded_at, rows[-1].recorded_at, low, high)


def load_vitals(*, patient, user=None) -> dict:
    vitals = list(Vitals.objects.filter(patient=patient).order_by("-recorded_at")[:LIMIT])
    return {
        "vitals": vitals[:5],
        "latest": vitals[0] if vitals else None,
        "trend": vitals_trend(vitals),
    }


def load_labs(*, patient, user=None, released_only: bool = False) -> dict:
    results = LabResult.objects.filter(patient=patient).select_related("order")
    if released_only:  # the patient sees released values, and a corrected one no longer
        results = results.filter(released_to_patient=True, is_current=True)
    return {"results": list(results.order_by("-resulted_at")[:LIMIT])}


def load_portal_labs(*, patient, user=None) -> dict:
    return load_labs(patient=patient, user=user, released_only=True)


def load_encounters(*, patient, user=None) -> dict:
    encounters = (
        Encounter.objects.filter(patient=patient)
        .select_related("practitioner", "department")
        .order_by("-started_at")[:LIMIT]
    )
    return {"encounters": list(encounters)}


def load_documents(*, patient, user=None) -> dict:
    return {"documents": list(Attachment.objects.filter(patient=patient)[:LIMIT])}


def load_notes(*, patient, user=None, signed_only: bool = False) -> dict:
    notes = (
        ClinicalNote.objects.filter(patient=patient)
        .select_related("author", "signed_by")
        .prefetch_related(
            Prefetch("amendments", queryset=NoteAmendment.objects.select_related("author"))
        )
        .order_by("-created_at")
    )
    if signed_only:
        notes = notes.filter(signed_at__isnull=False)
    return {"notes": list(notes[:20])}


def load_portal_notes(*, patient, user=None) -> dict:
    return load_notes(patient=patient, user=user, signed_only=True)


T = "clinical/chart/"
SECTIONS = [
    ChartSection("allergies", "Allergies", 5, Perm.PRESCRIPTION_VIEW, T + "allergies.html",
                 load_allergies, banner=True),
    ChartSection("problems", "Problems and diagnoses", 20, Perm.CLINICAL_VIEW,
                 T + "problems.html", load_problems),
    ChartSection("medications", "Medications and allergies", 30, Perm.PRESCRIPTION_VIEW,
                 T + "medications.html", load_medications),
    ChartSection("vitals", "Vital signs", 40, Perm.CLINICAL_VIEW, T + "vitals.html", load_vitals),
    ChartSection("labs", "Lab results", 50, Perm.LAB_VIEW, T + "labs.html", load_labs),
    ChartSection("encounters", "Encounters", 60, Perm.CLINICAL_VIEW, T + "encounters.html",
                 load_encounters),
    ChartSection("notes", "Clinical notes", 65, Perm.CLINICAL_VIEW, T + "notes.html", load_notes),
    ChartSection("documents", "Documents", 70, Perm.CLINICAL_VIEW, T + "documents.html",
                 load_documents),
    # The patient's own view in the portal.
    ChartSection("my-allergies", "Allergies", 5, Perm.PORTAL_USE, T + "allergies.html",
                 load_allergies, banner=True),
    ChartSection("my-medications", "Medicines and allergies", 30, Perm.PORTAL_USE,
                 T + "medications.html", load_medications),
    ChartSection("my-results", "Test results", 50, Perm.PORTAL_USE, T + "labs.html",
                 load_portal_labs),
    ChartSection("my-notes", "Notes from your care team", 65, Perm.PORTAL_USE,
                 T + "notes.html", load_portal_notes),
]  # fmt: skip

for _section in SECTIONS:
    register_section(_section)
