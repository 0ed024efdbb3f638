"""Patient search: one search box entry parsed into MRN, phone, date of birth or name words,
matched against the indexed tokens (raw SQL where the planners need steering), with typo
correction against the vocabulary of name words."""

import re
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Q
from rapidfuzz import process
from rapidfuzz.distance import OSA

from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import NotAllowed
from hms.core.permissions import Perm, user_has_perm
from hms.patients.models import Patient, PatientNameToken, PatientNameWord, PatientPhoneToken
from hms.patients.mrn import luhn_digit, mrn_format, mrn_is_valid
from hms.patients.normalize import digits, fold, phone_query_keys

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
        # Optimal string alignment: an insertion, deletion, substitution or swap of two
        # neighbouring letters ('jhon' -> 'john') each count as one typo.
        allowed = 1 if len(word) <= 5 else 2
        scored = process.extract(
            word, list(nearby), scorer=OSA.distance, score_cutoff=allowed, limit=None
        )
        if scored:
            best = min(distance for _, distance, _ in scored)
            fixes[word] = sorted(known for known, distance, _ in scored if distance == best)
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
