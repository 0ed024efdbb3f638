"""iCalendar (RFC 5545) text for appointments, written by the `icalendar` package (escaping,
line folding, CRLF line ends); times in UTC."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from icalendar import Calendar, Event, vText

PRODID = "-//HMS//Hospital Management System//EN"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.UTC)


def calendar(events: Iterable[dict], *, name: str) -> str:
    """events: dicts with uid, start, end, summary, and optional description, location, status."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", vText(name))  # an X- property: escaped as text only when told
    stamp = _utc(timezone.now())
    for item in events:
        event = Event()
        event.add("uid", item["uid"])
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(item["start"]))
        event.add("dtend", _utc(item["end"]))
        event.add("summary", item["summary"])
        for key in ("description", "location"):
            if item.get(key):
                event.add(key, item[key])
        event.add("status", item.get("status", "CONFIRMED"))
        cal.add_component(event)
    return cal.to_ical().decode()


def appointment_event(appointment, *, for_practitioner: bool) -> dict:
    """One appointment as an event. The practitioner's feed (its address is its only key) shows
    no more than the booking's times and the patient's MRN: no name, no reason for the visit, so
    a leaked feed address shows as little as possible. The patient's own event says more."""
    event = {
        "uid": f"appointment-{appointment.pk}@hms",
        "start": appointment.start,
        "end": appointment.end,
    }
    if for_practitioner:
        return {**event, "summary": f"Patient {appointment.patient.mrn}"}
    return {
        **event,
        "summary": f"Appointment with {appointment.practitioner.full_name}",
        "description": f"{appointment.department.name}. {appointment.reason}".strip(),
        "location": appointment.location,
        "status": "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED",
    }
