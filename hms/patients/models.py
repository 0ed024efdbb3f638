import uuid
from datetime import date

from django.conf import settings
from django.db import models

from hms.core.models import TimeStampedModel


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class MrnSerial(models.Model):
    """Where MRN serials come from: the id's sequence on PostgreSQL (never a row), an
    AUTOINCREMENT key on SQLite (a row inserted and removed). Neither is a row that every
    registration locks, and neither ever hands out a number twice."""

    def __str__(self) -> str:
        return f"MRN serial {self.pk}"


def photo_path(patient: "Patient", filename: str) -> str:
    """A random file name under MEDIA_ROOT (outside the web root): no patient data in the path."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"patients/photos/{uuid.uuid4().hex}.{extension}"


class PatientQuerySet(models.QuerySet):
    def current(self):
        """Records in use: a merged duplicate is hidden from lists and search."""
        return self.filter(merged_into__isnull=True)


class Patient(TimeStampedModel):
    """A person the hospital cares for. `mrn` is assigned once and never changes or repeats."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField("MRN", max_length=12, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
        help_text="The portal account of this patient, if they have one.",
    )
    # Demographics
    given_name = models.CharField(max_length=100)
    middle_names = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=60, blank=True)
    preferred_language = models.CharField(max_length=40, blank=True, default="English")
    photo = models.ImageField(upload_to=photo_path, null=True, blank=True)
    # Contacts
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=60, blank=True)
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    emergency_contact_relation = models.CharField(max_length=60, blank=True)
    next_of_kin_name = models.CharField(max_length=120, blank=True)
    next_of_kin_phone = models.CharField(max_length=40, blank=True)
    next_of_kin_relation = models.CharField(max_length=60, blank=True)
    # Insurance
    insurance_payer = models.CharField(max_length=120, blank=True)
    insurance_policy_number = models.CharField(max_length=60, blank=True)
    # Consents
    consent_data_sharing = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    # Search keys, kept in step by the services: lower-case, accents removed, digits only.
    search_name = models.CharField(max_length=260, editable=False, db_index=True)
    search_family = models.CharField(max_length=100, editable=False, db_index=True)
    search_phone = models.CharField(max_length=40, editable=False, db_index=True, blank=True)
    # Merging: a merged record points at the record that survived and is hidden from lists.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_records"
    )
    is_active = models.BooleanField(default=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["birth_date", "search_family"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sex__in=[c.value for c in Sex]), name="patient_sex_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")), name="patient_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.mrn_display})"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.middle_names, self.family_name) if p)

    @property
    def mrn_display(self) -> str:
        """The MRN as printed on wristbands and letters: serial, dash, check digit."""
        return f"{self.mrn[:-1]}-{self.mrn[-1]}" if self.mrn else ""

    @property
    def address_display(self) -> str:
        """One line of the parts given: no stray comma when only the city is known."""
        town = " ".join(p for p in (self.city, self.postal_code) if p)
        return ", ".join(p for p in (self.address_line, town, self.country) if p)

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class IdentifierSystem(models.TextChoices):
    NATIONAL_ID = "national-id", "National ID"
    PASSPORT = "passport", "Passport"
    EXTERNAL_MRN = "external-mrn", "External MRN"
    INSURANCE = "insurance", "Insurance member ID"
    OTHER = "other", "Other"


class PatientIdentifier(TimeStampedModel):
    """An extra identifier (national ID, passport, another hospital's MRN): system + value."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    system = models.CharField(max_length=40, choices=IdentifierSystem.choices)
    system_uri = models.CharField(
        max_length=200, blank=True, help_text="Issuer URI, e.g. a FHIR identifier system."
    )
    value = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "system_uri", "value"], name="patient_identifier_unique"
            )
        ]
        indexes = [models.Index(fields=["value"])]

    def __str__(self) -> str:
        return f"{self.get_system_display()}: {self.value}"


class PatientNameToken(models.Model):
    """One word of a patient's name (folded), so a name is found by the prefix of any word in
    any order through a plain B-tree index on every database."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="name_tokens")
    token = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "token"], name="patient_name_token_unique")
        ]
        indexes = [models.Index(fields=["token", "patient"], name="patient_name_token_idx")]

    def __str__(self) -> str:
        return self.token


class PatientPhoneToken(models.Model):
    """A key of a patient's phone number (see normalize.phone_tokens): all its digits, and each
    ending of the national number, so a number typed in full, in national form or only its last
    digits is found by a prefix range on a plain B-tree index."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="phone_tokens")
    token = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "token"], name="patient_phone_token_unique")
        ]
        indexes = [models.Index(fields=["token", "patient"], name="patient_phone_token_idx")]

    def __str__(self) -> str:
        return self.token


class PatientNameWord(models.Model):
    """Every distinct name word ever registered: the small vocabulary that a mistyped search
    word is corrected against (typo tolerance without scanning the patients)."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word


class PatientMerge(TimeStampedModel):
    """Two records of one person joined: `duplicate` now points at `survivor`.

    Its `moves` (`PatientMergeMove`) name every row that moved from the duplicate to the survivor
    (identifiers, the portal account, and the rows other apps' subscribers record), so an
    administrator can undo the merge exactly.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_kept")
    duplicate = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_absorbed")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(survivor=models.F("duplicate")),
                name="patient_merge_two_records",
            ),
            # A record is absorbed at most once at a time (an undone merge frees it again).
            models.UniqueConstraint(
                fields=["duplicate"],
                condition=models.Q(undone_at__isnull=True),
                name="patient_merge_one_live_per_duplicate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.duplicate_id} merged into {self.survivor_id}"

    @property
    def is_live(self) -> bool:
        return self.undone_at is None

    def record_moved(self, label: str, ids) -> None:
        """Subscribers of `patient.merged` call this with the ids of the rows they moved
        (`label`: the model's label, e.g. "clinical.encounter"); recording one twice is a no-op."""
        PatientMergeMove.objects.bulk_create(
            [PatientMergeMove(merge=self, label=label, object_id=str(pk)) for pk in ids],
            ignore_conflicts=True,
        )

    def moved_ids(self, label: str) -> list[str]:
        """Subscribers of `patient.unmerged` move these rows back to the duplicate."""
        return list(
            self.moves.filter(label=label).order_by("pk").values_list("object_id", flat=True)
        )

    def moved_counts(self) -> dict[str, int]:
        """How many rows of each model the merge moved."""
        rows = self.moves.values("label").annotate(n=models.Count("pk")).order_by("label")
        return {row["label"]: row["n"] for row in rows}


class PatientMergeMove(models.Model):
    """One row a merge moved from the duplicate to the survivor, named by model label and id:
    the single record of what a merge moved, for every app, so an unmerge moves it back."""

    merge = models.ForeignKey(PatientMerge, on_delete=models.CASCADE, related_name="moves")
    label = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merge", "label", "object_id"], name="patient_merge_move_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.object_id} (merge {self.merge_id})"
