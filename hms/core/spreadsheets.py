"""CSV exports that a spreadsheet cannot be tricked by (CSV injection).

A cell starting with =, +, -, @, a tab or a carriage return is a formula to Excel and
LibreOffice: text typed by a patient or a supplier ("=HYPERLINK(...)") would run when staff
open the export. Such text gets a leading apostrophe; numbers, negative ones included, are
written as they are.
"""

import csv
import re
from decimal import Decimal

from django.http import HttpResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_safe(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """`csv.writer` whose every cell goes through `csv_safe`; `writerow` returns what the
    underlying writer returns (the line, for streaming responses)."""

    def __init__(self, stream):
        self._writer = csv.writer(stream)

    def writerow(self, row):
        return self._writer.writerow([csv_safe(value) for value in row])


def csv_writer(stream) -> SafeWriter:
    return SafeWriter(stream)


def csv_download(filename: str) -> tuple[HttpResponse, SafeWriter]:
    """An attachment response named `filename` and the safe writer that fills it."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, SafeWriter(response)
