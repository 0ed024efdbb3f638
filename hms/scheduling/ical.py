"""iCalendar (RFC 5545) text for appointments, written by hand: CRLF line ends, escaped text,
lines folded at 75 octets, times in UTC."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

PRODID = "-//HMS//Hospital Management System//EN"


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (
        (text or "")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: Iterable[dict], *, name: str) -> str:
    """events: dicts with uid, start, end, summary, and optional description, location, status."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    stamp = _utc(timezone.now())
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event['uid']}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(event['start'])}",
            f"DTEND:{_utc(event['end'])}",
            f"SUMMARY:{escape(event['summary'])}",
        ]
        if event.get("description"):
            lines.append(f"DESCRIPTION:{escape(event['description'])}")
        if event.get("location"):
            lines.append(f"LOCATION:{escape(event['location'])}")
        lines.append(f"STATUS:{event.get('status', 'CONFIRMED')}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


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
