"""Every write to the patient registry: one transaction each, audited."""

from collections.abc import Iterable
from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from hms.accounts.models import User
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import Conflict, DomainError
from hms.core.events import emit, subscribe
from hms.core.permissions import Perm
from hms.core.phones import phone_normalise
from hms.patients.models import (
    Patient,
    PatientIdentifier,
    PatientMerge,
    PatientNameToken,
    PatientNameWord,
    PatientPhoneToken,
)
from hms.patients.mrn import mrn_allocate
from hms.patients.normalize import digits, fold, phone_tokens

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png"}
# A few bytes of PNG can claim 20000 x 20000 pixels (a decompression bomb): refuse more pixels
# than a camera takes, before anything decodes them.
PHOTO_MAX_PIXELS = 50_000_000

# Fields a caller may set through patient_create / patient_update.
EDITABLE_FIELDS = frozenset(
    {
        "given_name", "middle_names", "family_name", "birth_date", "sex", "gender_identity",
        "preferred_language", "phone", "email", "address_line", "city", "postal_code", "country",
        "emergency_contact_name", "emergency_contact_phone", "emergency_contact_relation",
        "next_of_kin_name", "next_of_kin_phone", "next_of_kin_relation", "insurance_payer",
        "insurance_policy_number", "consent_data_sharing", "consent_sms", "consent_email",
    }
)  # fmt: skip
PHONE_FIELDS = ("phone", "emergency_contact_phone", "next_of_kin_phone")
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_KEY_FIELDS = ("search_name", "search_family", "search_phone")

IDENTIFIER_LABEL = "patients.patientidentifier"
PORTAL_ACCOUNT_LABEL = "accounts.user"
MERGED_RECORD_LABEL = "patients.patient"


def search_keys(patient: Patient) -> None:
    """Keep the normalised search columns in step with the names and phone."""
    patient.search_name = fold(f"{patient.given_name} {patient.middle_names} {patient.family_name}")
    patient.search_family = fold(patient.family_name)
    patient.search_phone = digits(patient.phone)


def name_words(patient: Patient) -> set[str]:
    return name_words_of(patient.given_name, patient.middle_names, patient.family_name)


def name_words_of(*names: str) -> set[str]:
    """The words a name is found by: each folded word, plus a word written with punctuation
    joined up, so "O'Brien" is found by "o", "brien" and "obrien"."""
    whole = " ".join(names)
    words = set(fold(whole).split())
    for part in whole.split():
        folded = fold(part)
        if " " in folded:
            words.add(folded.replace(" ", ""))
    return {word[:100] for word in words if word}


def _index_name(patient: Patient) -> None:
    """Rewrite the patient's name tokens and grow the vocabulary used for typo correction."""
    words = name_words(patient)
    PatientNameToken.objects.filter(patient=patient).exclude(token__in=words).delete()
    PatientNameToken.objects.bulk_create(
        [PatientNameToken(patient=patient, token=word) for word in sorted(words)],
        ignore_conflicts=True,
    )
    PatientNameWord.objects.bulk_create(
        [PatientNameWord(word=word) for word in sorted(words)], ignore_conflicts=True
    )


def _index_phone(patient: Patient) -> None:
    """Rewrite the keys the patient's phone number is found by."""
    tokens = phone_tokens(patient.phone)
    PatientPhoneToken.objects.filter(patient=patient).exclude(token__in=tokens).delete()
    PatientPhoneToken.objects.bulk_create(
        [PatientPhoneToken(patient=patient, token=token) for token in sorted(tokens)],
        ignore_conflicts=True,
    )


def photo_check(photo: UploadedFile) -> None:
    """A photo is a real JPEG or PNG image of at most 2 MB (the content is checked, not the
    file name)."""
    from PIL import Image, UnidentifiedImageError

    if photo.size is not None and photo.size > PHOTO_MAX_BYTES:
        raise DomainError("The photo is larger than 2 MB.", fields={"photo": ["At most 2 MB."]})
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except Image.DecompressionBombError:
        kind, width, height = None, PHOTO_MAX_PIXELS, PHOTO_MAX_PIXELS
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind, width, height = None, 0, 0
    finally:
        photo.seek(0)
    if width * height > PHOTO_MAX_PIXELS:
        raise DomainError(
            "The photo has too many pixels.",
            fields={"photo": [f"At most {PHOTO_MAX_PIXELS // 1_000_000} megapixels."]},
        )
    if kind not in PHOTO_FORMATS:
        raise DomainError(
            "The photo must be a JPEG or PNG image.", fields={"photo": ["JPEG or PNG only."]}
        )
    photo.name = f"photo.{PHOTO_FORMATS[kind]}"


def birth_date_check(born: date) -> None:
    """A date of birth lies between 1 January 1900 and today."""
    if born > timezone.localdate():
        problem = "The date of birth cannot be in the future."
    elif born < EARLIEST_BIRTH_DATE:
        problem = "The date of birth cannot be before 1900."
    else:
        return
    raise DomainError(problem, code="invalid_birth_date", fields={"birth_date": [problem]})


def _checked(fields: dict) -> dict:
    """The fields, checked, with phone numbers in E.164 (one that does not parse is refused)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise DomainError(f"Unknown patient fields: {', '.join(sorted(unknown))}.")
    born = fields.get("birth_date")
    if isinstance(born, date):
        birth_date_check(born)
    checked = dict(fields)
    for name in PHONE_FIELDS:
        if name in fields:
            try:
                checked[name] = phone_normalise(fields[name])
            except ValueError as exc:
                raise DomainError(
                    str(exc), code="invalid_phone", fields={name: [str(exc)]}
                ) from None
    return checked


def _add_identifiers(patient: Patient, identifiers: Iterable[dict]) -> list[PatientIdentifier]:
    added = []
    for item in identifiers:
        system, value = item.get("system", ""), (item.get("value") or "").strip()
        if not system or not value:
            continue
        identifier = PatientIdentifier(
            patient=patient, system=system, system_uri=item.get("system_uri", ""), value=value
        )
        identifier.full_clean(
            exclude=["patient"], validate_unique=False, validate_constraints=False
        )
        try:
            with transaction.atomic():
                identifier.save()
        except IntegrityError:
            raise Conflict(
                f"Another patient already has this identifier ({value}).",
                code="identifier_taken",
                fields={"identifiers": [f"{value} is already recorded for another patient."]},
            ) from None
        added.append(identifier)
    return added


def _save_checked(patient: Patient, **kwargs) -> None:
    patient.full_clean(exclude=["mrn", *_KEY_FIELDS, "photo"])
    patient.save(**kwargs)


def patient_create(
    *,
    actor: User | None,
    user=None,
    identifiers: Iterable[dict] = (),
    photo: UploadedFile | None = None,
    **fields,
) -> Patient:
    """Register a patient with a new MRN (unique, check digit, never reused). Callers check for
    duplicates first (`duplicates.patient_find_possible_duplicates`). No actor: the system (a
    portal sign-up, a seeder, an import) under `as_system()`."""
    require(actor, Perm.PATIENT_REGISTER)
    fields = _checked(fields)
    if photo is not None:
        photo_check(photo)
    with transaction.atomic():
        patient = Patient(user=user, **fields)
        patient.mrn = mrn_allocate()
        search_keys(patient)
        if photo is not None:
            patient.photo.save(photo.name, photo, save=False)
        _save_checked(patient)
        _index_name(patient)
        _index_phone(patient)
        added = _add_identifiers(patient, identifiers)
        audit_record(
            action="patient.create",
            actor=actor,
            obj=patient,
            patient=patient,
            details={"identifiers": [i.system for i in added], "photo": photo is not None},
        )
        emit(
            "patient.registered",
            patient_id=str(patient.pk),
            portal_account=user is not None,
            actor_id=str(getattr(actor, "pk", "") or ""),
        )
    return patient


def patient_update(
    *,
    actor: User,
    patient: Patient,
    identifiers: Iterable[dict] = (),
    photo: UploadedFile | None = None,
    remove_photo: bool = False,
    **fields,
) -> Patient:
    """Change a patient's details; the MRN never changes. A merged record is read-only. The
    audit row names the changed fields."""
    require(actor, Perm.PATIENT_REGISTER)
    fields = _checked(fields)
    if photo is not None:
        photo_check(photo)
    with transaction.atomic():
        # Lock the row: two clerks editing at once are applied one after the other.
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.merged_into_id is not None:
            raise Conflict("This record was merged into another one.", code="patient_merged")
        changed = sorted(name for name, value in fields.items() if getattr(locked, name) != value)
        for name in changed:
            setattr(locked, name, fields[name])
        old_photo = locked.photo.name if locked.photo else ""
        if photo is not None:
            locked.photo.save(photo.name, photo, save=False)
            changed.append("photo")
        elif remove_photo and old_photo:
            locked.photo = None
            changed.append("photo")
        search_keys(locked)
        _save_checked(locked)
        if {"given_name", "middle_names", "family_name"} & set(changed):
            _index_name(locked)
        if "phone" in changed:
            _index_phone(locked)
        added = _add_identifiers(locked, identifiers)
        if added:
            changed.append("identifiers")
        audit_record(
            action="patient.update",
            actor=actor,
            obj=locked,
            patient=locked,
            details={"changed": changed},
        )
        if old_photo and "photo" in changed:
            storage = locked.photo.storage
            transaction.on_commit(lambda: storage.delete(old_photo))
    return locked


def patient_identifier_remove(*, actor: User, identifier: PatientIdentifier) -> None:
    """Remove an extra identifier (recorded by mistake). Audited with the patient."""
    require(actor, Perm.PATIENT_REGISTER)
    with transaction.atomic():
        patient = identifier.patient
        audit_record(
            action="patient.identifier_remove",
            actor=actor,
            obj=identifier,
            patient=patient,
            details={"system": identifier.system, "value": identifier.value},
        )
        identifier.delete()
        _new_version(patient.pk)


def _new_version(*patient_ids) -> None:
    """A record whose identifiers changed is a new version of it (FHIR's versionId and ETag
    come from `updated_at`), though none of its own columns did."""
    Patient.objects.filter(pk__in=patient_ids).update(updated_at=timezone.now())


def _lock_pair(first_id, second_id) -> dict:
    """Lock both records in primary-key order, so two merges of the same pair cannot deadlock."""
    rows = Patient.objects.select_for_update().filter(pk__in=[first_id, second_id]).order_by("pk")
    return {row.pk: row for row in rows}


def patient_merge(
    *, actor: User, survivor: Patient, duplicate: Patient, reason: str = ""
) -> PatientMerge:
    """Join two records of one person: the duplicate points at the survivor and disappears from
    search; its identifiers and portal account move to the survivor, and every other app moves
    its rows in its `patient.merged` subscriber (recording them on the merge so it can be
    undone). Audited on both records."""
    require(actor, Perm.PATIENT_MERGE)
    if survivor.pk == duplicate.pk:
        raise DomainError("Choose two different records.", code="same_patient")
    with transaction.atomic():
        locked = _lock_pair(survivor.pk, duplicate.pk)
        if len(locked) != 2:
            raise DomainError("One of the records no longer exists.", code="not_found")
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        if survivor.merged_into_id or duplicate.merged_into_id:
            raise Conflict("One of the records is already merged.", code="already_merged")
        if survivor.user_id and duplicate.user_id:
            raise Conflict(
                "Both records have a portal account; deactivate one account first.",
                code="two_portal_accounts",
            )
        merge = PatientMerge.objects.create(
            survivor=survivor, duplicate=duplicate, actor=actor, reason=reason
        )
        identifier_ids = list(duplicate.identifiers.values_list("pk", flat=True))
        PatientIdentifier.objects.filter(pk__in=identifier_ids).update(patient=survivor)
        merge.record_moved(IDENTIFIER_LABEL, identifier_ids)
        earlier = list(duplicate.merged_records.values_list("pk", flat=True))
        Patient.objects.filter(pk__in=earlier).update(merged_into=survivor)
        merge.record_moved(MERGED_RECORD_LABEL, earlier)
        if duplicate.user_id:
            account_id = duplicate.user_id
            Patient.objects.filter(pk=duplicate.pk).update(user=None)
            Patient.objects.filter(pk=survivor.pk).update(user_id=account_id)
            merge.record_moved(PORTAL_ACCOUNT_LABEL, [account_id])
        Patient.objects.filter(pk=duplicate.pk).update(merged_into=survivor)
        _new_version(survivor.pk, duplicate.pk)
        # A merged record drops out of name search: it has no name tokens while merged.
        PatientNameToken.objects.filter(patient=duplicate).delete()
        emit(
            "patient.merged",
            survivor=survivor,
            duplicate=duplicate,
            actor=actor,
            merge_id=str(merge.pk),
            merge=merge,
        )
        moved = merge.moved_counts()
        for patient, role in ((survivor, "survivor"), (duplicate, "duplicate")):
            audit_record(
                action="patient.merge",
                actor=actor,
                obj=merge,
                patient=patient,
                details={
                    "role": role,
                    "survivor": str(survivor.pk),
                    "duplicate": str(duplicate.pk),
                    "moved": moved,
                    "reason": reason,
                },
            )
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    return merge


def patient_unmerge(*, actor: User, merge: PatientMerge) -> PatientMerge:
    """Undo a merge exactly: every row recorded as moved goes back to the duplicate, which
    reappears in search. Other apps move their rows back in their `patient.unmerged`
    subscriber, each reading what it recorded with `merge.moved_ids(label)`. Audited on both
    records."""
    require(actor, Perm.PATIENT_MERGE)
    with transaction.atomic():
        merge = PatientMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise Conflict("This merge was already undone.", code="already_unmerged")
        locked = _lock_pair(merge.survivor_id, merge.duplicate_id)
        survivor, duplicate = locked[merge.survivor_id], locked[merge.duplicate_id]
        if duplicate.merged_into_id != survivor.pk:
            raise Conflict("The records have changed since the merge.", code="merge_changed")
        if survivor.merged_into_id is not None:
            raise Conflict(
                "The surviving record was itself merged since; undo that merge first.",
                code="merge_changed",
            )
        PatientIdentifier.objects.filter(
            pk__in=merge.moved_ids(IDENTIFIER_LABEL), patient=survivor
        ).update(patient=duplicate)
        Patient.objects.filter(
            pk__in=merge.moved_ids(MERGED_RECORD_LABEL), merged_into=survivor
        ).update(merged_into=duplicate)
        accounts = merge.moved_ids(PORTAL_ACCOUNT_LABEL)
        if accounts and str(survivor.user_id) == accounts[0]:
            Patient.objects.filter(pk=survivor.pk).update(user=None)
            Patient.objects.filter(pk=duplicate.pk).update(user_id=survivor.user_id)
        Patient.objects.filter(pk=duplicate.pk).update(merged_into=None)
        _new_version(survivor.pk, duplicate.pk)
        _index_name(duplicate)
        merge.undone_at = timezone.now()
        merge.undone_by = actor
        merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
        emit(
            "patient.unmerged",
            survivor=survivor,
            duplicate=duplicate,
            actor=actor,
            merge_id=str(merge.pk),
            merge=merge,
        )
        for patient, role in ((survivor, "survivor"), (duplicate, "duplicate")):
            audit_record(
                action="patient.unmerge",
                actor=actor,
                obj=merge,
                patient=patient,
                details={
                    "role": role,
                    "survivor": str(survivor.pk),
                    "duplicate": str(duplicate.pk),
                },
            )
    return merge


@subscribe("patient_account.registered")
def _record_for_portal_account(*, user, birth_date, phone="", **_) -> None:
    """A self-registered portal account gets its own patient record. It is never linked to an
    existing record automatically: reception merges duplicates after checking identity."""
    patient_create(
        actor=user,
        user=user,
        given_name=user.given_name,
        family_name=user.family_name,
        birth_date=birth_date,
        email=user.email,
        phone=phone,
        consent_email=True,
    )
