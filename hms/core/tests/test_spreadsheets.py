"""CSV exports never hand a spreadsheet a formula, and keep numbers as numbers."""

from decimal import Decimal

import pytest

from hms.core.spreadsheets import csv_safe

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 call me", "'+1 call me"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("\tindented", "'\tindented"),
        ("-12.50", "-12.50"),
        (Decimal("-3.10"), "-3.10"),
        (7, "7"),
        (None, ""),
        ("Paracetamol", "Paracetamol"),
    ],
)
def test_formulas_are_neutralised_and_numbers_kept(value, written):
    assert csv_safe(value) == written
