"""Search parameters as FHIR writes them: `date` with prefixes, `token` with a system, references.

A parameter the server does not support, or a value it cannot read, is a 400 with an
OperationOutcome (`BadParam`): a client is told, never silently given everything.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from hms.core.errors import DomainError

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
COMMON = {"_count", "_offset", "_include", "_format", "_id", "_total", "_summary"}


class BadParam(DomainError):
    code = "invalid"
    status = 400


@dataclass(frozen=True)
class DateRange:
    """The instant range a date parameter's value covers: [start, end)."""

    prefix: str
    start: datetime
    end: datetime

    def q(self, field: str) -> Q:
        if self.prefix == "eq":
            return Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})
        if self.prefix == "ne":
            return ~Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})
        if self.prefix in ("gt", "sa"):
            return Q(**{f"{field}__gte": self.end})
        if self.prefix == "ge":
            return Q(**{f"{field}__gte": self.start})
        if self.prefix in ("lt", "eb"):
            return Q(**{f"{field}__lt": self.start})
        if self.prefix == "le":
            return Q(**{f"{field}__lt": self.end})
        raise BadParam(f"The date prefix {self.prefix!r} is not supported.")

    def q_date(self, field: str) -> Q:
        """The same on a DateField (birth date, onset)."""
        start, end = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return {
            "eq": Q(**{f"{field}__gte": start, f"{field}__lte": end}),
            "ne": ~Q(**{f"{field}__gte": start, f"{field}__lte": end}),
            "gt": Q(**{f"{field}__gt": end}),
            "sa": Q(**{f"{field}__gt": end}),
            "ge": Q(**{f"{field}__gte": start}),
            "lt": Q(**{f"{field}__lt": start}),
            "eb": Q(**{f"{field}__lt": start}),
            "le": Q(**{f"{field}__lte": end}),
        }.get(self.prefix) or _unsupported(self.prefix)


def _unsupported(prefix: str):
    raise BadParam(f"The date prefix {prefix!r} is not supported.")


def date_range(name: str, value: str) -> DateRange:
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    if prefix == "ap":
        prefix = "eq"
    try:
        moment = parse_datetime(text) if "T" in text else None
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, timezone.UTC)
            return DateRange(prefix, moment, moment + timedelta(seconds=1))
        if len(text) == 4 and text.isdigit():
            start_day, end_day = date(int(text), 1, 1), date(int(text) + 1, 1, 1)
        elif len(text) == 7 and text[4] == "-":
            year, month = int(text[:4]), int(text[5:])
            start_day = date(year, month, 1)
            end_day = date(year + month // 12, month % 12 + 1, 1)
        else:
            start_day = parse_date(text)
            if start_day is None:
                raise ValueError
            end_day = start_day + timedelta(days=1)
    except (ValueError, TypeError, OverflowError):
        raise BadParam(f"{name}: {value!r} is not a FHIR date.") from None
    if not (1900 <= start_day.year <= 2999):
        raise BadParam(f"{name}: {value!r} is outside the years 1900-2999.")
    zone = timezone.UTC
    return DateRange(
        prefix,
        datetime.combine(start_day, time.min, tzinfo=zone),
        datetime.combine(end_day, time.min, tzinfo=zone),
    )


def token(value: str) -> tuple[str | None, str]:
    """`system|code`, `|code` (no system) or `code` (any system) -> (system or None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system, code
    return None, value


def reference_id(name: str, value: str, kind: str) -> str:
    """`Patient/123`, a full URL ending so, or a bare id."""
    value = value.strip().rstrip("/")
    if "/" in value:
        parts = value.split("/")
        if parts[-2] != kind:
            raise BadParam(f"{name}: {value!r} is not a reference to a {kind}.")
        value = parts[-1]
    if not value:
        raise BadParam(f"{name}: an id is needed.")
    return value


def count_and_offset(params, max_count: int) -> tuple[int, int]:
    def integer(name: str, default: int) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            number = int(raw)
        except ValueError:
            raise BadParam(f"{name} must be a whole number.") from None
        if number < 0:
            raise BadParam(f"{name} must not be negative.")
        return number

    count = min(integer("_count", 20), max_count)
    offset = integer("_offset", 0)
    if offset > 1_000_000:
        raise BadParam("_offset is too large; narrow the search instead.")
    return count, offset
