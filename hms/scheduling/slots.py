"""Free slots, computed (never stored) from weekly working hours, exceptions and appointments.

A slot maps to a FHIR Slot with status "free"; its id is `<practitioner id>.<start as UTC>`.
Working hours are in the hospital's TIME_ZONE, so a 09:00 session stays at 09:00 across DST.
The whole computation takes a fixed number of queries, whatever the range or head count.
"""

import zoneinfo
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hms.scheduling.models import (
    RELEASED_STATUSES,
    Appointment,
    ExceptionKind,
    Schedule,
    ScheduleException,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
)

# An appointment that holds its time: regular (an overbooked one sits on top of the slot grid)
# and not released (cancelled, no-show).
HOLDS_ITS_TIME = Q(overbooked=False) & ~Q(status__in=RELEASED_STATUSES)
# Those appointments, the condition built once: a booking's look-up adds its practitioner and
# time to it (building the condition again cost about 0.05 ms of that query's 0.4 ms of CPU).
HOLDING_APPOINTMENTS = Appointment.objects.filter(HOLDS_ITS_TIME)


@dataclass(frozen=True)
class Slot:
    practitioner_id: int
    department_id: int
    start: datetime
    end: datetime
    location: str = ""

    @property
    def slot_id(self) -> str:
        return f"{self.practitioner_id}.{self.start.astimezone(timezone.UTC):%Y%m%dT%H%M%SZ}"


def local_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _days(start: datetime, end: datetime) -> Iterable[date]:
    zone = local_zone()
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=local_zone())


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def _step(start: datetime, end: datetime, minutes: int, skip=None) -> Iterable[tuple]:
    length = timedelta(minutes=minutes)
    cursor = start
    while cursor + length <= end:
        if skip is None or not _overlaps(cursor, cursor + length, *skip):
            yield cursor, cursor + length
        cursor += length


def working_slots(schedule: Schedule, hours, exceptions, start: datetime, end: datetime):
    """Every slot the pattern offers between start and end, booked or not (no queries)."""
    by_weekday = defaultdict(list)
    for session in hours:
        by_weekday[session.weekday].append(session)
    candidates: list[tuple[datetime, datetime, str]] = []
    for day in _days(start, end):
        for session in by_weekday.get(day.weekday(), ()):
            skip = None
            if session.break_start and session.break_end:
                skip = (_at(day, session.break_start), _at(day, session.break_end))
            for s, e in _step(
                _at(day, session.start_time), _at(day, session.end_time), session.slot_minutes, skip
            ):
                candidates.append((s, e, session.location))
    closed = []
    for exc in exceptions:
        if exc.kind == ExceptionKind.EXTRA:
            if exc.schedule_id == schedule.pk:
                for s, e in _step(exc.start, exc.end, exc.slot_minutes):
                    candidates.append((s, e, exc.location))
        elif exc.schedule_id in (None, schedule.pk):
            closed.append((exc.start, exc.end))
    seen = set()
    result = []
    for s, e, location in sorted(candidates):
        if s < start or e > end or s in seen:
            continue
        if any(_overlaps(s, e, c_start, c_end) for c_start, c_end in closed):
            continue
        seen.add(s)
        result.append(Slot(schedule.practitioner_id, schedule.department_id, s, e, location))
    return result


def free_slots(
    *,
    start: datetime,
    end: datetime,
    practitioner_ids: Iterable[int] | None = None,
    department_id: int | None = None,
    for_patient=None,
    online_only: bool = False,
    now: datetime | None = None,
    minutes: int | None = None,
) -> list[Slot]:
    """Free slots in [start, end) of the matching practitioners, in time order. A slot is free
    when it is in the working pattern, in the future, overlaps no active regular appointment,
    and is not held by a waitlist offer for someone other than `for_patient`. With `minutes`
    (a service's length), only the starts of enough back-to-back free slots to hold it, each
    widened to the whole run (see `runs_of`). Six queries."""
    now = now or timezone.now()
    start = max(start, now)
    if end <= start:
        return []
    schedules = Schedule.objects.filter(is_active=True, practitioner__is_active=True)
    if practitioner_ids is not None:
        schedules = schedules.filter(practitioner_id__in=list(practitioner_ids))
    if department_id is not None:
        schedules = schedules.filter(department_id=department_id)
    if online_only:
        schedules = schedules.filter(bookable_online=True)
    schedules = list(schedules)
    if not schedules:
        return []
    ids = [s.pk for s in schedules]
    practitioners = [s.practitioner_id for s in schedules]
    hours = defaultdict(list)
    for session in WorkingHours.objects.filter(schedule_id__in=ids):
        hours[session.schedule_id].append(session)
    exceptions = list(_exceptions(ids, start, end))
    busy = defaultdict(list)
    for practitioner_id, s, e in HOLDING_APPOINTMENTS.filter(
        practitioner_id__in=practitioners, start__lt=end, end__gt=start
    ).values_list("practitioner_id", "start", "end"):
        busy[practitioner_id].append((s, e))
    for practitioner_id, s, e in _holds(practitioners, start, end, now, for_patient).values_list(
        "offered_practitioner_id", "offered_start", "offered_end"
    ):
        busy[practitioner_id].append((s, e))
    result = []
    for schedule in schedules:
        is_taken = _busy_test(busy.get(schedule.practitioner_id, []))
        free = [
            slot
            for slot in working_slots(schedule, hours[schedule.pk], exceptions, start, end)
            if not is_taken(slot.start, slot.end)
        ]
        result += runs_of(free, minutes) if minutes else free
    result.sort(key=lambda slot: (slot.start, slot.practitioner_id))
    return result


def _exceptions(schedule_ids: list[int], start: datetime, end: datetime):
    """The exceptions of these schedules, and those of the whole hospital, within [start, end)."""
    return ScheduleException.objects.filter(
        Q(schedule_id__in=schedule_ids) | Q(schedule__isnull=True), start__lt=end, end__gt=start
    )


def _holds(practitioner_ids: list[int], start: datetime, end: datetime, now: datetime, patient):
    """Waitlist offers still open at `now` that hold these practitioners' time within
    [start, end) for a patient other than `patient` (for anyone, without one)."""
    return WaitlistEntry.objects.filter(_hold(practitioner_ids, start, end, now, patient))


def _hold(practitioner_ids: list[int], start: datetime, end: datetime, now: datetime, patient):
    """`_holds` as a condition on waitlist entries."""
    held = Q(
        status=WaitlistStatus.OFFERED,
        offer_expires_at__gt=now,
        offered_practitioner_id__in=practitioner_ids,
        offered_start__lt=end,
        offered_end__gt=start,
    )
    return held if patient is None else held & ~Q(patient=patient)


def runs_of(slots: list[Slot], minutes: int) -> list[Slot]:
    """Each of one practitioner's free slots (in time order) that begins a run of back-to-back
    free slots long enough for `minutes`, rounded up to whole slots, widened to that run: a
    30-minute service on 15-minute slots needs 09:00 and 09:15 free and books 09:00-09:30.
    O(n·k) for n slots and runs of k slots."""
    runs = []
    for i, first in enumerate(slots):
        count = -(-timedelta(minutes=minutes) // (first.end - first.start))  # ceil division
        run = slots[i : i + count]
        if len(run) == count and all(a.end == b.start for a, b in pairwise(run)):
            runs.append(replace(first, end=run[-1].end))
    return runs


def _busy_test(intervals):
    """A function telling whether [s, e) overlaps any of the intervals, in O(log n): bisect on
    the sorted starts, then compare with the furthest end reached by the intervals before."""
    intervals = sorted(intervals)
    starts = [s for s, _ in intervals]
    furthest, reach = [], None
    for _, e in intervals:
        reach = e if reach is None or e > reach else reach
        furthest.append(reach)

    def overlaps(s, e) -> bool:
        i = bisect_left(starts, e) - 1
        return i >= 0 and furthest[i] > s

    return overlaps


def next_free_slots(
    practitioner_ids: Iterable[int], *, days: int = 28, online_only: bool = False
) -> dict[int, Slot]:
    """The first free slot of each practitioner within `days` (absent when none)."""
    now = timezone.now()
    first: dict[int, Slot] = {}
    wanted = set(practitioner_ids)
    searched = now
    # Widening windows: most practitioners have a free slot within a day or two, so the
    # expensive month-long search runs only for the few who do not.
    for window in sorted({min(2, days), min(7, days), days}):
        if not wanted:
            break
        until = now + timedelta(days=window)
        for slot in free_slots(
            start=searched, end=until, practitioner_ids=wanted, online_only=online_only
        ):
            first.setdefault(slot.practitioner_id, slot)
        wanted -= set(first)
        searched = until
    return first


LOOKUP_SPAN = timedelta(hours=12)  # the longest run of slots a booking may take


# Built once: what a booking reads of a schedule (see `schedule_for_booking`).
_FOR_BOOKING = Schedule.objects.select_related("department", "practitioner").only(
    *("practitioner_id", "department_id", "is_active", "bookable_online"),
    *("department__name", "practitioner__given_name", "practitioner__family_name"),
    *("practitioner__role", "practitioner__is_active"),
)


def schedule_for_booking(*, practitioner_id: int) -> Schedule | None:
    """The practitioner's active schedule with its department's name and its practitioner's
    name, role and state, in one query: what a booking reads of it besides `slot_at`."""
    try:
        return _FOR_BOOKING.get(practitioner_id=practitioner_id, is_active=True)
    except Schedule.DoesNotExist:
        return None


class LookUp(NamedTuple):
    """What `slot_look_up` found: the slot (None when there is none), and whether it saw that no
    waitlist entry matters here: no other patient's hold nearby and none of the caller's
    `waiting` (False when it did not find out)."""

    slot: Slot | None
    waitlist_quiet: bool = False


def slot_at(
    schedule: Schedule,
    *,
    start: datetime,
    for_patient=None,
    online_only: bool = False,
    minutes: int | None = None,
) -> Slot | None:
    """The slot `slot_look_up` finds, for callers that ask nothing of the waitlist."""
    return slot_look_up(
        schedule, start=start, for_patient=for_patient, online_only=online_only, minutes=minutes
    ).slot


def slot_look_up(
    schedule: Schedule,
    *,
    start: datetime,
    for_patient=None,
    online_only: bool = False,
    minutes: int | None = None,
    waiting: Q | None = None,
) -> LookUp:
    """`slot_lookup` for a schedule from `schedule_for_booking`, in fewer queries: one when an
    active regular appointment covers `start` (the usual collision), four when nothing unusual
    (an exception: leave, a holiday, an extra session; another patient's waitlist hold) lies
    within the look-up span, and `slot_lookup`'s own when something does. A run of slots never
    crosses midnight, so the working hours of the day of `start` are enough. An appointment
    overlapping the slot (or run) after its start is left to the database, which refuses the
    booking (see migration 0002) as it refuses a race.

    `waiting`, a condition on waitlist entries (the booking's: the patient's open entries), is
    asked in the same query as the holds nearby; when neither matches anything the answer says
    `waitlist_quiet`, and the caller may skip what it would do with those entries. When
    something matches, the holds are asked on their own (one query more)."""
    if not schedule.practitioner.is_active or (online_only and not schedule.bookable_online):
        return LookUp(None)
    if HOLDING_APPOINTMENTS.filter(
        practitioner_id=schedule.practitioner_id, start__lte=start, end__gt=start
    ).exists():
        return LookUp(None)
    end = start + LOOKUP_SPAN
    held = _hold([schedule.practitioner_id], start, end, timezone.now(), for_patient)
    quiet = waiting is not None and not WaitlistEntry.objects.filter(held | waiting).exists()
    if _exceptions([schedule.pk], start, end).exists() or (
        not quiet and WaitlistEntry.objects.filter(held).exists()
    ):
        slot = slot_lookup(
            practitioner_id=schedule.practitioner_id,
            start=start,
            for_patient=for_patient,
            online_only=online_only,
            minutes=minutes,
        )
        return LookUp(slot, quiet)
    weekday = timezone.localtime(start, local_zone()).weekday()
    hours = WorkingHours.objects.filter(schedule_id=schedule.pk, weekday=weekday)
    slots = working_slots(schedule, hours, [], start, end)
    first = next((n for n, slot in enumerate(slots) if slot.start == start), None)
    if first is None or not minutes:
        return LookUp(None if first is None else slots[first], quiet)
    run = runs_of(slots[first:], minutes)
    return LookUp(run[0] if run and run[0].start == start else None, quiet)


def slot_lookup(
    *,
    practitioner_id: int,
    start: datetime,
    for_patient=None,
    online_only: bool = False,
    minutes: int | None = None,
) -> Slot | None:
    """The free slot of this practitioner that begins exactly at `start` (with `minutes`: the
    run of free slots that holds them), if there is one."""
    for slot in free_slots(
        start=start,
        end=start + LOOKUP_SPAN,
        practitioner_ids=[practitioner_id],
        for_patient=for_patient,
        online_only=online_only,
        minutes=minutes,
    ):
        if slot.start == start:
            return slot
    return None


def covers(slots: list[Slot], start: datetime, end: datetime) -> bool:
    """True when [start, end) lies inside one slot or a run of back-to-back slots (no queries).
    `slots` is `working_slots(...)`'s list, sorted by start; no slot is longer than a day, so
    the search starts a day earlier, found by bisection."""
    cursor = start
    index = bisect_left(slots, start - timedelta(days=1), key=lambda slot: slot.start)
    for slot in slots[index:]:
        if slot.start > cursor:
            return False
        if slot.start <= cursor < slot.end:
            cursor = slot.end
            if cursor >= end:
                return True
    return False
