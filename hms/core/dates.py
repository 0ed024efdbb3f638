"""Dates that arrive in a request: bounded to years a hospital can mean.

Python's calendar ends at years 1 and 9999, so a day typed at either end (`?day=9999-12-31`)
overflows as soon as a page adds a week to it or moves it to another time zone (a 500). Nothing
the hospital books or records lies outside these years.
"""

from datetime import date, datetime

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
OUT_OF_RANGE = f"Give a date between {EARLIEST.year} and {LATEST.year}."


def date_in_range(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST
