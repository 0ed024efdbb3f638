"""Exports of the modules go through hms.core.spreadsheets: a formula typed into a name comes
out as text."""

import pytest

from hms.core.permissions import Role
from hms.inventory.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_an_inventory_export_neutralises_a_formula_in_an_item_name(client_for):
    ItemFactory(code="EVIL1", name='=HYPERLINK("http://evil")')
    export = client_for(Role.PHARMACIST).get("/inventory/catalogue.csv")
    text = export.content.decode()
    assert export.status_code == 200
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
