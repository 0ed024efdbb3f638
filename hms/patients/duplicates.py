"""Duplicate detection: existing records that may be the same person as one being registered."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q
from rapidfuzz import fuzz

from hms.core.audit import audit_record_patients
from hms.patients.models import Patient
from hms.patients.normalize import digits, fold

NAME_SIMILARITY_THRESHOLD = 0.8


@dataclass
class DuplicateMatch:
    patient: Patient
    score: float
    reasons: list[str]


def name_similarity(given_a: str, family_a: str, given_b: str, family_b: str) -> float:
    """0..1: how alike two names are, ignoring case and accents and forgiving a swap of the
    given and family names."""
    a, b = fold(f"{given_a} {family_a}"), fold(f"{given_b} {family_b}")
    swapped = fold(f"{family_a} {given_a}")
    if not a or not b:
        return 0.0
    return max(fuzz.ratio(a, b), fuzz.ratio(swapped, b), fuzz.token_sort_ratio(a, b)) / 100


def patient_find_possible_duplicates(
    *,
    given_name: str,
    family_name: str,
    birth_date: date | None = None,
    phone: str = "",
    exclude_id: Any = None,
    limit: int = 5,
    user=None,
) -> list[DuplicateMatch]:
    """Existing records that may be the same person: a similar name (typos, swapped given and
    family names, accents) with the same date of birth or the same phone number. Looks only
    at the records sharing the birth date or phone (indexed), so it stays fast. Pass `user`
    when the matches are shown to someone: each shown record is audited."""
    phone_digits = digits(phone)
    same = Q()
    if birth_date:
        same |= Q(birth_date=birth_date)
    if len(phone_digits) >= 6:
        same |= Q(search_phone=phone_digits)
    if not same:
        return []
    candidates = Patient.objects.current().filter(same)
    if exclude_id:
        candidates = candidates.exclude(pk=exclude_id)
    matches = []
    for candidate in candidates[:500]:
        similarity = name_similarity(
            given_name, family_name, candidate.given_name, candidate.family_name
        )
        if similarity < NAME_SIMILARITY_THRESHOLD:
            continue
        reasons = ["same name" if similarity == 1 else "similar name"]
        score = similarity
        if birth_date and candidate.birth_date == birth_date:
            reasons.append("same date of birth")
            score += 0.5
        if phone_digits and candidate.search_phone == phone_digits:
            reasons.append("same phone")
            score += 0.5
        matches.append(DuplicateMatch(candidate, round(score, 3), reasons))
    matches.sort(key=lambda m: -m.score)
    matches = matches[:limit]
    if user is not None:
        # The matches are shown to `user` (name, birth date, MRN): an audited read of each.
        audit_record_patients(
            action="patient.duplicate_match", actor=user, patients=[m.patient for m in matches]
        )
    return matches
