"""Reads of patient records: every one checks who asks and leaves an audit row."""

import difflib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from hms.core.audit import audit_record, audit_record_patients
from hms.core.audit_labels import PatientLabel
from hms.core.chart import ChartSection, sections_for
from hms.core.errors import NotAllowed, NotFound
from hms.core.memo import once_per_request
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.models import (
    Patient,
    PatientMerge,
    PatientNameToken,
    PatientNameWord,
    PatientPhoneToken,
)
from hms.patients.mrn import luhn_digit, mrn_format, mrn_is_valid
from hms.patients.normalize import digits, fold, phone_query_keys


def patient_get_for_user(*, user, patient_id, action: str = "patient.view") -> Patient:
    """The patient, if `user` may see them: staff whose role reads demographics, or the patient
    themself. Anyone else gets NotFound, so a record's existence does not leak. Audited."""
    try:
        patient = Patient.objects.select_related("merged_into").get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError, ValidationError):
        raise patient_access_refused(user=user, patient_id=patient_id, action=action) from None
    if not can_view_patient(user, patient):
        raise patient_access_refused(user=user, patient_id=patient_id, action=action)
    audit_record(action=action, actor=user, obj=patient, patient=patient)
    return patient


def patient_access_refused(*, user, patient_id, action: str) -> NotFound:
    """A refused read of a patient's record leaves an audit row too (`<action>_denied`, naming
    the id asked for, whether or not it exists): who probes for records is worth knowing.
    Returns the NotFound for the caller to raise."""
    ref = "" if patient_id is None else str(patient_id)[:64]
    audit_record(
        action=f"{action}_denied",
        actor=user,
        object_type="patients.patient",
        object_id=ref,
        patient=ref,
    )
    return NotFound("No such patient.")


def patient_merges_recent(*, user, limit: int = 50) -> list[PatientMerge]:
    """The latest merges, for the merge page: each names two patients, so each patient shown
    leaves an audit row (one batch, three queries)."""
    merges = list(
        PatientMerge.objects.select_related("survivor", "duplicate", "actor", "undone_by")[:limit]
    )
    shown = [ref for m in merges for ref in (m.survivor_id, m.duplicate_id)]
    audit_record_patients(action="patient.merge_list", actor=user, patients=shown)
    return merges


def can_view_patient(user, patient: Patient) -> bool:
    if user_has_perm(user, Perm.PATIENT_VIEW_DEMOGRAPHICS):
        return True
    return (
        user.is_authenticated
        and user.role == Role.PATIENT
        and patient.user_id is not None
        and patient.user_id == user.pk
    )


def patient_of_user(user) -> Patient | None:
    """The portal user's own patient record (None for staff or an unlinked account). Read once
    per request: a portal page asks in its view, its selectors and its widgets."""
    if not user.is_authenticated or user.role != Role.PATIENT:
        return None
    return once_per_request(
        ("patient_of_user", user.pk),
        lambda: Patient.objects.filter(user=user, merged_into__isnull=True).first(),
    )


# --- Search -------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_NUMBER = re.compile(r"^[\d\s+()./-]+$")
_MRN_WITH_DASH = re.compile(r"^(\d{1,8})-(\d)$")
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000  # deeper pages are empty anyway; a bigger offset overflows the database
MAX_CANDIDATES = 2000  # MRN, phone and birth-date searches list at most this many matches


@dataclass
class ParsedQuery:
    words: list[str] = field(default_factory=list)
    mrns: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # phone_query_keys
    birth_date: date | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.mrns or self.phones or self.birth_date)


@dataclass
class SearchPage:
    """One page of search results; no total count (counting a million rows is not free)."""

    patients: list[Patient]
    number: int
    page_size: int
    has_next: bool
    query: str
    corrected: list[str] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def parse_date(text: str) -> date | None:
    text = text.strip()
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
        match = _DMY_DATE.match(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        return None
    return None


def patient_by_mrn(text: str) -> Patient | None:
    """The current (not merged) patient whose MRN is typed here, with or without the dash."""
    candidates = _mrn_candidates(text or "")
    if not candidates:
        return None
    return Patient.objects.current().filter(mrn__in=candidates).first()


def patient_refs_for_mrn(text: str) -> list[str]:
    """Ids (as the audit trail stores them) of the patients whose MRN is typed here, merged
    records included: their history stays reachable by the MRN printed on old papers."""
    candidates = _mrn_candidates(text or "")
    if not candidates:
        return []
    return [
        str(pk) for pk in Patient.objects.filter(mrn__in=candidates).values_list("pk", flat=True)
    ]


def patient_audit_labels(refs) -> dict[str, PatientLabel]:
    """Name and MRN of each reference that is a patient id (others are ignored), one query."""
    ids = set()
    for ref in refs:
        try:
            ids.add(uuid.UUID(str(ref)))
        except ValueError:
            continue
    rows = Patient.objects.filter(pk__in=ids).only(
        "pk", "mrn", "given_name", "middle_names", "family_name"
    )
    return {str(p.pk): PatientLabel(p.full_name, p.mrn_display) for p in rows}


def _mrn_candidates(text: str) -> list[str]:
    """What an MRN typed in any usual way can mean: '00001234-4', '000012344', '1234-4', '1234'."""
    text = text.strip()
    match = _MRN_WITH_DASH.match(text)
    if match:
        body = match.group(1).zfill(8)
        return [body + match.group(2)] if luhn_digit(body) == match.group(2) else []
    number = digits(text)
    if not number or len(number) > 9:
        return []
    found = []
    if len(number) == 9 and mrn_is_valid(number):
        found.append(number)
    if len(number) <= 8:
        found.append(mrn_format(int(number)))  # the serial without its check digit
        if len(number) >= 2 and luhn_digit(number[:-1].zfill(8)) == number[-1]:
            found.append(number[:-1].zfill(8) + number[-1])
    return found


def parse_query(text: str) -> ParsedQuery:
    """Split a search box entry into MRN, phone, date of birth and name words."""
    parsed = ParsedQuery()
    text = (text or "").strip()[:200]
    if not text:
        return parsed
    whole_date = parse_date(text)
    if whole_date:
        parsed.birth_date = whole_date
        return parsed
    if _NUMBER.match(text):
        parsed.mrns = _mrn_candidates(text)
        if _MRN_WITH_DASH.match(text):
            return parsed  # written the way MRNs are printed: not a phone number
        parsed.phones = phone_query_keys(text)
        return parsed
    for part in text.split():
        day = parse_date(part)
        if day:
            parsed.birth_date = day
        else:
            parsed.words.extend(fold(part).split())
    return parsed


def _prefix_range(field_name: str, prefix: str) -> Q:
    """`field LIKE 'prefix%'` written as a range, so a plain B-tree index serves it on SQLite
    and PostgreSQL alike (keys are lower-case ASCII letters and digits)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": upper})


def _name_filter(words: list[str], alternatives: dict[str, list[str]] | None = None) -> Q:
    condition = Q()
    for word in words:
        choices = (alternatives or {}).get(word)
        tokens = PatientNameToken.objects.filter(
            Q(token__in=choices) if choices else _prefix_range("token", word)
        )
        condition &= Q(pk__in=tokens.values("patient_id"))
    return condition


_TOKEN_TABLE = PatientNameToken._meta.db_table
_COUNT_CAP = 20000


def _word_condition(column: str, word: str, alternatives) -> tuple[str, list]:
    choices = (alternatives or {}).get(word)
    if choices:
        return f"{column} IN ({', '.join(['%s'] * len(choices))})", list(choices)
    upper = word[:-1] + chr(ord(word[-1]) + 1)
    return f"{column} >= %s AND {column} < %s", [word, upper]


def _name_match_ids(words: list[str], alternatives, offset: int, limit: int) -> list:
    """Ids of patients with a name word starting with each query word, in the order of the
    index on (token, patient): no patient row is read and nothing is sorted, so the time does
    not grow with the registry. One word's index range is scanned in order until the page is
    full; each row is checked against the other words. Merged duplicates have no tokens."""
    unique_words = list(dict.fromkeys(words))
    conditions = [_word_condition("token", word, alternatives) for word in unique_words]
    with connection.cursor() as cursor:
        sizes = []
        for sql, params in conditions:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {_TOKEN_TABLE} WHERE {sql} LIMIT %s) AS c",  # noqa: S608
                [*params, _COUNT_CAP],
            )
            sizes.append(cursor.fetchone()[0])
        if not all(sizes):
            return []
        # PostgreSQL probes the (patient, token) index for each row of the scanned word, so it
        # scans the rarest word; SQLite (below) scans the commonest against small sets.
        sqlite = connection.vendor == "sqlite"
        ordered = sorted(range(len(sizes)), key=lambda i: -sizes[i] if sqlite else sizes[i])
        outer_sql, outer_params = _word_condition("t.token", unique_words[ordered[0]], alternatives)
        sql = f"SELECT t.patient_id FROM {_TOKEN_TABLE} t WHERE {outer_sql}"  # noqa: S608
        params = list(outer_params)
        for index in ordered[1:]:
            word = unique_words[index]
            if sqlite:
                # "+" stops the planner from driving the loop from the subquery, so the scan
                # follows the (token, patient) index and stops at the page's end.
                inner_sql, inner_params = _word_condition("token", word, alternatives)
                sql += f" AND +t.patient_id IN (SELECT patient_id FROM {_TOKEN_TABLE} WHERE {inner_sql})"  # noqa: S608, E501
            else:
                # Compared through left(): not indexable on purpose, so each scanned row is
                # checked with one probe of the (patient, token) index, never a token range
                # (PostgreSQL misjudges narrow string ranges and would nest two range scans).
                choices = (alternatives or {}).get(word)
                if choices:
                    marks = ", ".join(["%s"] * len(choices))
                    inner_sql, inner_params = f"left(u.token, 100) IN ({marks})", list(choices)
                else:
                    inner_sql, inner_params = "left(u.token, %s) = %s", [len(word), word]
                sql += (
                    f" AND EXISTS (SELECT 1 FROM {_TOKEN_TABLE} u"  # noqa: S608
                    f" WHERE u.patient_id = t.patient_id AND {inner_sql})"
                )
            params += inner_params
        # A patient can match the scanned word twice ("Maria Martinez" for "mar"): fetch enough
        # rows to fill the page after dropping repeats.
        wanted = (offset + limit) * 2
        sql += " ORDER BY t.token, t.patient_id LIMIT %s"
        cursor.execute(sql, [*params, wanted])
        unique = list(dict.fromkeys(row[0] for row in cursor.fetchall()))
    field = Patient._meta.pk
    ids = [field.to_python(value) for value in unique[offset : offset + limit]]
    return ids


def _phone_match_ids(keys: list[str]) -> list:
    """Ids of patients with a phone key starting with one of `keys` (at most MAX_CANDIDATES),
    fetched apart so that the patients are then read by primary key (an OR with a subquery
    would scan the patient table)."""
    if not keys:
        return []
    condition = Q()
    for key in keys:
        condition |= _prefix_range("token", key)
    ids = PatientPhoneToken.objects.filter(condition).values_list("patient_id", flat=True)
    return list(dict.fromkeys(ids[:MAX_CANDIDATES]))


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring letters ('jhon' -> 'john') each count as one typo."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _corrections(words: list[str]) -> dict[str, list[str]]:
    """For each word that starts no known name word, the nearest known words (typo tolerance).
    Looks only at the vocabulary of distinct name words sharing the first letter (or the next
    two letters), never at the patients."""
    fixes: dict[str, list[str]] = {}
    for word in words:
        if len(word) < 3 or PatientNameWord.objects.filter(_prefix_range("word", word)).exists():
            continue
        nearby = PatientNameWord.objects.filter(
            _prefix_range("word", word[0]) | _prefix_range("word", word[1:3])
        ).values_list("word", flat=True)[:5000]
        allowed = 1 if len(word) <= 5 else 2
        scored = [(edit_distance(word, known), known) for known in nearby]
        scored = [(d, known) for d, known in scored if d <= allowed]
        if scored:
            best = min(d for d, _ in scored)
            fixes[word] = sorted(known for d, known in scored if d == best)
    return fixes


def patient_search(
    *, user, query: str = "", page: int = 1, page_size: int = 25, audit: bool = True
) -> SearchPage:
    """Patients matching one search box entry: MRN (with or without dash or check digit),
    phone, date of birth (ISO or dd/mm/yyyy) or name words (prefixes, any order, accents and
    case ignored, one typo tolerated). Merged duplicates are hidden. Staff who read
    demographics only; audited."""
    if not user_has_perm(user, Perm.PATIENT_VIEW_DEMOGRAPHICS):
        raise NotAllowed("Your role does not allow searching patients.")
    page = max(1, min(int(page or 1), MAX_PAGE))
    page_size = max(1, min(int(page_size or 25), MAX_PAGE_SIZE))
    parsed = parse_query(query)
    corrected: list[str] = []

    start = (page - 1) * page_size

    def run(alternatives=None) -> list[Patient]:
        if parsed.words and not (parsed.mrns or parsed.phones or parsed.birth_date):
            ids = _name_match_ids(parsed.words, alternatives, start, page_size + 1)
            rows = Patient.objects.current().in_bulk(ids)
            return [rows[pk] for pk in ids if pk in rows]
        rows = Patient.objects.current()
        if parsed.is_empty:
            if query.strip():
                return []  # something typed that can match nobody (a wrong check digit, "%")
            # The newest registrations first, straight from the MRN index.
            return list(rows.order_by("-mrn")[start : start + page_size + 1])
        if parsed.mrns or parsed.phones:
            rows = rows.filter(Q(mrn__in=parsed.mrns) | Q(pk__in=_phone_match_ids(parsed.phones)))
        if parsed.birth_date:
            rows = rows.filter(birth_date=parsed.birth_date)
        if parsed.words:
            rows = rows.filter(_name_filter(parsed.words, alternatives))
        # Fetch a bounded set of keys without ORDER BY (so no planner walks a whole index to
        # honour it), then sort by name here.
        keys = sorted(
            rows.values_list("search_family", "search_name", "pk")[:MAX_CANDIDATES],
            key=lambda k: (k[0], k[1], str(k[2])),
        )
        ids = [k[2] for k in keys[start : start + page_size + 1]]
        found = Patient.objects.in_bulk(ids)
        return [found[pk] for pk in ids]

    found = run()
    if not found and parsed.words:
        fixes = _corrections(parsed.words)
        if fixes:
            found = run(fixes)
            corrected = [fixes.get(word, [word])[0] for word in parsed.words]
    if audit:
        audit_record(
            action="patient.search",
            actor=user,
            details={"query": query[:200], "page": page, "results": min(len(found), page_size)},
        )
        # The result list shows each patient's demographics: one row per patient shown.
        audit_record_patients(
            action="patient.search_result", actor=user, patients=found[:page_size]
        )
    return SearchPage(
        patients=found[:page_size],
        number=page,
        page_size=page_size,
        has_next=len(found) > page_size,
        query=query,
        corrected=corrected,
    )


# --- Duplicates ---------------------------------------------------------------------------

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
    return max(
        difflib.SequenceMatcher(None, a, b).ratio(),
        difflib.SequenceMatcher(None, swapped, b).ratio(),
        difflib.SequenceMatcher(
            None, " ".join(sorted(a.split())), " ".join(sorted(b.split()))
        ).ratio(),
    )


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


# --- The chart ----------------------------------------------------------------------------


@dataclass
class LoadedSection:
    section: ChartSection
    context: dict


@dataclass
class Chart:
    patient: Patient
    banner: list[LoadedSection]
    sections: list[LoadedSection]
    age: int


def patient_chart(*, user, patient_id, today: date | None = None) -> Chart:
    """The chart of one patient: access-checked and audited (patient_get_for_user), then every
    section the user's role may see, each loading its own data in a bounded number of queries.
    Sections flagged `banner=True` (allergies, alerts) are shown in the banner."""
    patient = patient_get_for_user(user=user, patient_id=patient_id, action="patient.chart_view")
    banner, body = [], []
    for section in sections_for(user):
        loaded = LoadedSection(section, section.load(patient=patient, user=user) or {})
        (banner if getattr(section, "banner", False) else body).append(loaded)
    today = today or timezone.localdate()
    return Chart(patient=patient, banner=banner, sections=body, age=patient.age_on(today))
