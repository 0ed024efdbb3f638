"""The electronic medical record: encounters and what is recorded in them.

Every row that belongs to a patient carries the patient foreign key, so a chart section, an
access check and a merge work on one column. Rows imported from FHIR keep the source resource
id in `source_id` (unique), which makes a second import a no-op.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from hms.clinical.vitals import VITAL_SIGNS, VITAL_UNITS, VitalSign
from hms.core.models import Department, TimeStampedModel
from hms.patients.models import Patient


def _choices_check(field: str, choices: type[models.TextChoices], name: str):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": [c.value for c in choices]}), name=name
    )


class EncounterKind(models.TextChoices):
    OUTPATIENT = "outpatient", "Outpatient"
    INPATIENT = "inpatient", "Inpatient"
    EMERGENCY = "emergency", "Emergency"


class EncounterStatus(models.TextChoices):
    OPENED = "opened", "Opened"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class Encounter(TimeStampedModel):
    """One contact between the patient and the hospital: opened -> in progress -> closed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="encounters")
    kind = models.CharField(
        max_length=16, choices=EncounterKind.choices, default=EncounterKind.OUTPATIENT
    )
    status = models.CharField(
        max_length=16, choices=EncounterStatus.choices, default=EncounterStatus.OPENED
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clinical_encounters",
        help_text="The treating doctor or nurse.",
    )
    practitioner_name = models.CharField(
        max_length=200, blank=True, help_text="Name of an outside practitioner (imported records)."
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appointment_id = models.CharField(
        max_length=64, null=True, blank=True, help_text="The scheduling appointment it came from."
    )
    reason = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    source_id = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["patient", "-started_at"])]
        constraints = [
            _choices_check("kind", EncounterKind, "encounter_kind_known"),
            _choices_check("status", EncounterStatus, "encounter_status_known"),
            models.UniqueConstraint(
                fields=["appointment_id"],
                condition=Q(appointment_id__isnull=False),
                name="encounter_one_per_appointment",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="encounter_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status=EncounterStatus.CLOSED) | Q(ended_at__isnull=False),
                name="encounter_closed_has_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} encounter {self.started_at:%Y-%m-%d}"

    # The status each move starts from. Pages offer a move when the encounter is there
    # (`can_start`, `can_close`); the service's conditional update moves only from there.
    MOVES_FROM = {
        EncounterStatus.IN_PROGRESS: EncounterStatus.OPENED,
        EncounterStatus.CLOSED: EncounterStatus.IN_PROGRESS,
    }

    def can_move_to(self, status: EncounterStatus) -> bool:
        return self.status == self.MOVES_FROM[status]

    @property
    def can_start(self) -> bool:
        return self.can_move_to(EncounterStatus.IN_PROGRESS)

    @property
    def can_close(self) -> bool:
        return self.can_move_to(EncounterStatus.CLOSED)

    @property
    def accepts_entries(self) -> bool:
        """Vitals, diagnoses, prescriptions, notes, orders and documents are added until closed."""
        return self.status != EncounterStatus.CLOSED

    @property
    def treating(self) -> str:
        return self.practitioner.full_name if self.practitioner_id else self.practitioner_name


def _vital_units() -> dict:
    return dict(VITAL_UNITS)


def _vital_possible(sign: VitalSign) -> models.CheckConstraint:
    field = sign.field
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__gte": sign.low, f"{field}__lte": sign.high}),
        name=f"vitals_{sign.name}_possible",
    )


class Vitals(TimeStampedModel):
    """One set of vital signs. BMI and the abnormal flags are computed by the service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="vitals")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="vitals"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    pulse_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    units = models.JSONField(default=_vital_units)
    flags = models.JSONField(default=dict, blank=True, help_text='e.g. {"pulse_per_min": "high"}')

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name_plural = "vitals"
        indexes = [models.Index(fields=["patient", "-recorded_at"])]
        constraints = [
            # Values no living person can have are refused by the database itself.
            *(_vital_possible(sign) for sign in VITAL_SIGNS),
            models.CheckConstraint(
                condition=Q(systolic_mmhg__isnull=True)
                | Q(diastolic_mmhg__isnull=True)
                | Q(systolic_mmhg__gt=F("diastolic_mmhg")),
                name="vitals_systolic_above_diastolic",
            ),
        ]

    def __str__(self) -> str:
        return f"Vitals {self.recorded_at:%Y-%m-%d %H:%M}"


ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED_SYSTEM = "http://snomed.info/sct"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"


class DiagnosisStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"
    INACTIVE = "inactive", "Inactive"


class Diagnosis(TimeStampedModel):
    """A problem or diagnosis: a code (ICD-10-CM, or SNOMED CT when imported) and/or free text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="diagnoses")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="diagnoses"
    )
    code_system = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=20, blank=True)
    code_display = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=300, blank=True, help_text="Free text.")
    status = models.CharField(
        max_length=16, choices=DiagnosisStatus.choices, default=DiagnosisStatus.ACTIVE
    )
    onset_date = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name_plural = "diagnoses"
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            _choices_check("status", DiagnosisStatus, "diagnosis_status_known"),
            models.CheckConstraint(
                condition=~Q(code="") | ~Q(description=""), name="diagnosis_code_or_text"
            ),
            models.CheckConstraint(
                condition=Q(code="") | ~Q(code_system=""), name="diagnosis_code_has_system"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.code_display or self.description

    @property
    def is_icd10(self) -> bool:
        return self.code_system == ICD10_SYSTEM


class AllergySeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class AllergyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    RESOLVED = "resolved", "Resolved"


class Allergy(TimeStampedModel):
    """An allergy or intolerance to a substance; active ones are checked on every prescription."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=200)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=16, choices=AllergySeverity.choices, default=AllergySeverity.MODERATE
    )
    status = models.CharField(
        max_length=16, choices=AllergyStatus.choices, default=AllergyStatus.ACTIVE
    )
    is_intolerance = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            _choices_check("severity", AllergySeverity, "allergy_severity_known"),
            _choices_check("status", AllergyStatus, "allergy_status_known"),
            models.CheckConstraint(condition=~Q(substance=""), name="allergy_has_substance"),
        ]

    def __str__(self) -> str:
        return f"{self.substance} ({self.get_severity_display()})"


class PrescriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


class Prescription(TimeStampedModel):
    """A medication order. A match with a recorded allergy must be acknowledged and is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="prescriptions"
    )
    drug = models.CharField(max_length=200)
    drug_code = models.CharField(max_length=40, blank=True, help_text="e.g. an RxNorm code")
    # The pharmacy catalogue's item code when the drug was picked from it (see medicines.py);
    # empty: free text, a drug the hospital does not stock.
    item_code = models.CharField(max_length=40, blank=True)
    strength = models.CharField(max_length=60, blank=True)
    dose = models.CharField(max_length=60, blank=True)
    route = models.CharField(max_length=40, blank=True)
    frequency = models.CharField(max_length=60, blank=True)
    duration = models.CharField(max_length=60, blank=True)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    instructions = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=PrescriptionStatus.choices, default=PrescriptionStatus.ACTIVE
    )
    prescribed_at = models.DateTimeField(default=timezone.now)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allergy_warning = models.CharField(max_length=500, blank=True)
    allergy_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-prescribed_at"]
        indexes = [models.Index(fields=["patient", "-prescribed_at"])]
        constraints = [
            _choices_check("status", PrescriptionStatus, "prescription_status_known"),
            models.CheckConstraint(condition=~Q(drug=""), name="prescription_has_drug"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0),
                name="prescription_quantity_positive",
            ),
            # An allergy warning is never stored without who acknowledged it.
            models.CheckConstraint(
                condition=Q(allergy_warning="") | Q(allergy_acknowledged_by__isnull=False),
                name="prescription_warning_acknowledged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug} {self.strength}".strip()

    @property
    def is_stocked(self) -> bool:
        return bool(self.item_code)

    @property
    def can_stop(self) -> bool:
        return self.status == PrescriptionStatus.ACTIVE


class ClinicalNote(TimeStampedModel):
    """A SOAP note. Once signed it is read-only (service, conditional update and a database
    trigger); later changes are amendments that keep the original text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="clinical_notes")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clinical_notes"
    )
    subjective = models.TextField(blank=True)
    objective = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="note_signed_with_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"Note {self.created_at:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def written_by(self, user) -> bool:
        """Only the author edits or signs a draft."""
        return self.author_id == getattr(user, "pk", None)


class NoteAmendment(models.Model):
    """A later addition to a signed note; the note itself never changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="amendment_has_text")]

    def __str__(self) -> str:
        return f"Amendment {self.created_at:%Y-%m-%d %H:%M}"


class LabPriority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    STAT = "stat", "STAT"


class LabOrderStatus(models.TextChoices):
    ORDERED = "ordered", "Ordered"
    COLLECTED = "collected", "Collected"
    RESULTED = "resulted", "Resulted"


class LabOrder(TimeStampedModel):
    """A test ordered for a patient: ordered -> collected -> resulted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_orders")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="lab_orders"
    )
    test_code = models.CharField(max_length=20, help_text="LOINC code")
    test_name = models.CharField(max_length=200)
    priority = models.CharField(
        max_length=16, choices=LabPriority.choices, default=LabPriority.ROUTINE
    )
    status = models.CharField(
        max_length=16, choices=LabOrderStatus.choices, default=LabOrderStatus.ORDERED
    )
    clinical_info = models.CharField(max_length=300, blank=True)
    ordered_at = models.DateTimeField(default=timezone.now)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    collected_at = models.DateTimeField(null=True, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-ordered_at"]
        indexes = [
            models.Index(fields=["patient", "-ordered_at"]),
            models.Index(fields=["status", "priority"]),
        ]
        constraints = [
            _choices_check("priority", LabPriority, "lab_order_priority_known"),
            _choices_check("status", LabOrderStatus, "lab_order_status_known"),
            models.CheckConstraint(
                condition=Q(status=LabOrderStatus.ORDERED) | Q(collected_at__isnull=False),
                name="lab_order_collected_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=LabOrderStatus.RESULTED) | Q(resulted_at__isnull=False),
                name="lab_order_resulted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test_name} ({self.get_status_display()})"

    @property
    def can_collect(self) -> bool:
        return self.status == LabOrderStatus.ORDERED

    @property
    def accepts_results(self) -> bool:
        """Results are entered once the specimen is collected (and corrected after)."""
        return self.status != LabOrderStatus.ORDERED


class LabFlag(models.TextChoices):
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class LabResult(TimeStampedModel):
    """A result of an order, with its unit and reference range; the flag is computed.

    A result is never edited or deleted: a correction is a new row that `corrects` the old one,
    with a reason; the old row stays (no longer current, shown as corrected). One current value
    per order and analyte; only the current one is released to the patient."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(LabOrder, on_delete=models.PROTECT, related_name="results")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_results")
    analyte = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    value_text = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    reference_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    critical_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    critical_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    flag = models.CharField(max_length=16, choices=LabFlag.choices, blank=True)
    resulted_at = models.DateTimeField(default=timezone.now)
    resulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_to_patient = models.BooleanField(default=False)
    released_at = models.DateTimeField(null=True, blank=True)
    is_current = models.BooleanField(default=True)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by"
    )
    correction_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-resulted_at"]
        indexes = [models.Index(fields=["patient", "-resulted_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "analyte"],
                condition=Q(is_current=True),
                name="lab_result_one_current_value",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="lab_result_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=False) | ~Q(value_text=""), name="lab_result_has_value"
            ),
            models.CheckConstraint(
                condition=Q(reference_low__isnull=True)
                | Q(reference_high__isnull=True)
                | Q(reference_low__lte=F("reference_high")),
                name="lab_result_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(released_to_patient=False) | Q(released_at__isnull=False),
                name="lab_result_release_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte}: {self.display_value}"

    @property
    def display_value(self) -> str:
        if self.value is None:
            return self.value_text
        return f"{self.value.normalize():f} {self.unit}".strip()

    @property
    def reference_range(self) -> str:
        if self.reference_low is None and self.reference_high is None:
            return ""
        low = "" if self.reference_low is None else f"{self.reference_low.normalize():f}"
        high = "" if self.reference_high is None else f"{self.reference_high.normalize():f}"
        return f"{low}–{high}"


ATTACHMENT_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


class Attachment(TimeStampedModel):
    """A document or image in the record, stored under MEDIA_ROOT (outside the web root) and
    served only by an access-checked, audited view."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="attachments")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to="clinical/attachments/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=list(ATTACHMENT_TYPES)),
                name="attachment_type_allowed",
            ),
            models.CheckConstraint(
                condition=Q(size__gt=0, size__lte=10 * 1024 * 1024),
                name="attachment_size_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name
