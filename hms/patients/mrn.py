"""Medical record numbers: an 8-digit serial and a Luhn check digit, e.g. 00001234-4 -> '000012344'.

Serials come from a database sequence that only moves forward, so an MRN is never reused, even
after a merge or a deleted registration, and concurrent registrations never wait for each other
(a rolled-back registration leaves a gap, which is harmless). The check digit catches a
mistyped or swapped digit.
"""

from django.db import connection

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
    """Take the next serial from the sequence (two registrations never get the same number)."""
    from hms.patients.models import MrnSerial

    table = MrnSerial._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            serial = cursor.fetchone()[0]
        else:
            cursor.execute(f"INSERT INTO {table} DEFAULT VALUES RETURNING id")  # noqa: S608
            serial = cursor.fetchone()[0]
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [serial])  # noqa: S608
    return mrn_format(serial)
