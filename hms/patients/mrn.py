"""Medical record numbers: an 8-digit serial and a Luhn check digit, e.g. 00001234-4 -> '000012344'.

Serials come from a counter row that only moves forward, so an MRN is never reused, even after
a merge or a deleted registration. The check digit catches a mistyped or swapped digit.
"""

from django.db import transaction

MRN_LENGTH = 9


def luhn_digit(number: str) -> str:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def mrn_format(serial: int) -> str:
    body = f"{serial:08d}"
    return body + luhn_digit(body)


def mrn_is_valid(value: str) -> bool:
    value = value.strip().replace("-", "").replace(" ", "")
    return len(value) == MRN_LENGTH and value.isdigit() and luhn_digit(value[:-1]) == value[-1]


def mrn_allocate() -> str:
    """Take the next serial under a row lock (two registrations never get the same number)."""
    from hms.patients.models import MrnCounter

    with transaction.atomic():
        counter, _ = MrnCounter.objects.select_for_update().get_or_create(pk=1)
        counter.last_serial += 1
        counter.save(update_fields=["last_serial"])
        return mrn_format(counter.last_serial)
