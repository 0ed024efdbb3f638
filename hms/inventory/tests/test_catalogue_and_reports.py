"""Catalogue CSV import and export with a row-by-row error report, and the reports page."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hms.core.permissions import Role
from hms.inventory import services
from hms.inventory.models import Item
from hms.inventory.tests.factories import ItemFactory, LocationFactory, receive
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CSV = """code,name,kind,strength,unit,pack_size,is_active
para500,Paracetamol,medicine,500 mg,tablet,32,yes
,No code,medicine,,tablet,1,yes
IBU400,Ibuprofen,pill,400 mg,tablet,x,yes
SYR5,Syringe 5 ml,consumable,,syringe,100,no
"""


def test_a_bad_row_names_its_line_and_field_and_imports_nothing_of_that_row(client_for):
    ItemFactory(code="SYR5", name="Old name")
    upload = SimpleUploadedFile("catalogue.csv", CSV.encode(), content_type="text/csv")
    page = client_for(Role.PHARMACIST).post(reverse("inventory:catalogue-import"), {"file": upload})
    assert page.status_code == 200
    report = page.context["report"]
    assert (report.created, report.updated) == (1, 1)
    assert report.errors == [
        (3, "code", "required"),
        (4, "kind", "medicine, consumable or equipment"),
        (4, "pack_size", "a whole number from 1"),
    ]
    assert Item.objects.get(code="PARA500").pack_size == 32
    assert not Item.objects.get(code="SYR5").is_active
    assert not Item.objects.filter(code="IBU400").exists()


def test_the_export_reads_back_in_unchanged(client_for, make_user):
    ItemFactory(code="AMOX500", name="Amoxicillin", strength="500 mg", pack_size=21)
    exported = client_for(Role.ADMIN).get(reverse("inventory:catalogue-export"))
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert rows[0]["code"] == "AMOX500" and rows[0]["pack_size"] == "21"
    report = services.catalogue_import(actor=make_user(Role.PHARMACIST), rows=rows)
    assert (report.created, report.updated, report.errors) == (0, 1, [])


def test_a_file_without_the_code_column_is_refused(client_for):
    upload = SimpleUploadedFile("x.csv", b"name\nParacetamol\n", content_type="text/csv")
    page = client_for(Role.PHARMACIST).post(reverse("inventory:catalogue-import"), {"file": upload})
    assert page.status_code == 400 and "Missing column" in page.content.decode()


def test_reports_show_value_consumption_chart_and_export_csv(client_for, make_user):
    item, pharmacy = ItemFactory(name="Omeprazole"), LocationFactory(name="Main pharmacy")
    receive(item, pharmacy, 10, cost="0.50")
    services.stock_dispense(
        actor=make_user(Role.PHARMACIST), item=item, location=pharmacy, quantity=4,
        patient=PatientFactory(),
    )  # fmt: skip
    client = client_for(Role.PHARMACIST)
    page = client.get(reverse("inventory:reports"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Main pharmacy" in body and "3.00" in body  # 6 left at 0.50
    assert "<svg" in body and "Omeprazole" in body
    consumption = client.get(reverse("inventory:reports"), {"export": "consumption"})
    assert list(csv.reader(io.StringIO(consumption.content.decode())))[1][-1] == "4"
    movements = client.get(reverse("inventory:reports"), {"export": "movements"})
    assert len(movements.content.decode().strip().splitlines()) == 3  # header + 2 movements


def test_an_item_edited_out_of_use_is_no_longer_suggested_to_prescribers(client_for):
    from hms.clinical.medicines import medicine_search

    item = ItemFactory(code="AMOX500", name="Amoxicillin")
    assert [m.code for m in medicine_search("amox")] == ["AMOX500"]
    response = client_for(Role.PHARMACIST).post(
        reverse("inventory:item-edit", args=[item.pk]),
        {"name": "Amoxicillin", "kind": "medicine", "unit": "capsule", "pack_size": 21},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert not item.is_active and item.pack_size == 21
    assert medicine_search("amox") == []
