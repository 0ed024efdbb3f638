"""Demo pharmacy and stores: a formulary of 50 common medicines and a few consumables, two
suppliers, a main store, the pharmacy and a ward per department, lots received through the
ledger (some expiring soon), reorder levels, and one medicine already below its level, so the
pharmacist's dashboard shows alerts on first run. Idempotent: nothing is done twice."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from hms.clinical.models import Prescription, PrescriptionStatus
from hms.core.demo import DemoContext
from hms.core.models import Department
from hms.inventory import services
from hms.inventory.models import Item, ItemKind, Location, LocationKind, Supplier

# (code, generic name, form, strength, unit, ATC code, unit cost)
MEDICINES = [
    ("PARA500", "Paracetamol", "tablet", "500 mg", "tablet", "N02BE01", "0.02"),
    ("IBU400", "Ibuprofen", "tablet", "400 mg", "tablet", "M01AE01", "0.04"),
    ("ASP75", "Aspirin", "tablet", "75 mg", "tablet", "B01AC06", "0.02"),
    ("AMOX500", "Amoxicillin", "capsule", "500 mg", "capsule", "J01CA04", "0.08"),
    ("COAMOX625", "Co-amoxiclav", "tablet", "625 mg", "tablet", "J01CR02", "0.25"),
    ("FLUCLOX500", "Flucloxacillin", "capsule", "500 mg", "capsule", "J01CF05", "0.12"),
    ("PENV500", "Phenoxymethylpenicillin", "tablet", "250 mg", "tablet", "J01CE02", "0.07"),
    ("CLARI500", "Clarithromycin", "tablet", "500 mg", "tablet", "J01FA09", "0.30"),
    ("DOXY100", "Doxycycline", "capsule", "100 mg", "capsule", "J01AA02", "0.10"),
    ("CIPRO500", "Ciprofloxacin", "tablet", "500 mg", "tablet", "J01MA02", "0.15"),
    ("NITRO100", "Nitrofurantoin", "capsule", "100 mg", "capsule", "J01XE01", "0.22"),
    ("TRIM200", "Trimethoprim", "tablet", "200 mg", "tablet", "J01EA01", "0.05"),
    ("METRO400", "Metronidazole", "tablet", "400 mg", "tablet", "P01AB01", "0.06"),
    ("CEFAL500", "Cefalexin", "capsule", "500 mg", "capsule", "J01DB01", "0.14"),
    ("METF500", "Metformin", "tablet", "500 mg", "tablet", "A10BA02", "0.03"),
    ("GLIC80", "Gliclazide", "tablet", "80 mg", "tablet", "A10BB09", "0.05"),
    ("INSGLAR", "Insulin glargine", "pen", "100 units/ml", "pen", "A10AE04", "9.80"),
    ("AMLO5", "Amlodipine", "tablet", "5 mg", "tablet", "C08CA01", "0.02"),
    ("RAMI5", "Ramipril", "capsule", "5 mg", "capsule", "C09AA05", "0.03"),
    ("LISI10", "Lisinopril", "tablet", "10 mg", "tablet", "C09AA03", "0.03"),
    ("LOSA50", "Losartan", "tablet", "50 mg", "tablet", "C09CA01", "0.04"),
    ("BISO5", "Bisoprolol", "tablet", "5 mg", "tablet", "C07AB07", "0.03"),
    ("ATEN50", "Atenolol", "tablet", "50 mg", "tablet", "C07AB03", "0.02"),
    ("FURO40", "Furosemide", "tablet", "40 mg", "tablet", "C03CA01", "0.02"),
    ("BEND25", "Bendroflumethiazide", "tablet", "2.5 mg", "tablet", "C03AB01", "0.02"),
    ("ATOR20", "Atorvastatin", "tablet", "20 mg", "tablet", "C10AA05", "0.03"),
    ("SIMV40", "Simvastatin", "tablet", "40 mg", "tablet", "C10AA01", "0.02"),
    ("CLOP75", "Clopidogrel", "tablet", "75 mg", "tablet", "B01AC04", "0.05"),
    ("APIX5", "Apixaban", "tablet", "5 mg", "tablet", "B01AF02", "0.90"),
    ("WARF1", "Warfarin", "tablet", "1 mg", "tablet", "B01AA03", "0.03"),
    ("OMEP20", "Omeprazole", "capsule", "20 mg", "capsule", "A02BC01", "0.03"),
    ("LANS30", "Lansoprazole", "capsule", "30 mg", "capsule", "A02BC03", "0.04"),
    ("METOC10", "Metoclopramide", "tablet", "10 mg", "tablet", "A03FA01", "0.04"),
    ("ONDAN4", "Ondansetron", "tablet", "4 mg", "tablet", "A04AA01", "0.12"),
    ("LEVO50", "Levothyroxine", "tablet", "50 micrograms", "tablet", "H03AA01", "0.04"),
    ("PRED5", "Prednisolone", "tablet", "5 mg", "tablet", "H02AB06", "0.03"),
    ("SALB100", "Salbutamol", "inhaler", "100 micrograms", "inhaler", "R03AC02", "1.50"),
    ("BECL100", "Beclometasone", "inhaler", "100 micrograms", "inhaler", "R03BA01", "3.80"),
    ("CETI10", "Cetirizine", "tablet", "10 mg", "tablet", "R06AE07", "0.02"),
    ("LORA10", "Loratadine", "tablet", "10 mg", "tablet", "R06AX13", "0.02"),
    ("SERT50", "Sertraline", "tablet", "50 mg", "tablet", "N06AB06", "0.04"),
    ("CITA20", "Citalopram", "tablet", "20 mg", "tablet", "N06AB04", "0.03"),
    ("AMIT10", "Amitriptyline", "tablet", "10 mg", "tablet", "N06AA09", "0.03"),
    ("GABA300", "Gabapentin", "capsule", "300 mg", "capsule", "N03AX12", "0.06"),
    ("CODE30", "Codeine", "tablet", "30 mg", "tablet", "R05DA04", "0.05"),
    ("MORPH10", "Morphine sulfate", "oral solution", "10 mg/5 ml", "bottle", "N02AA01", "2.40"),
    ("TRAM50", "Tramadol", "capsule", "50 mg", "capsule", "N02AX02", "0.06"),
    ("FERR200", "Ferrous sulfate", "tablet", "200 mg", "tablet", "B03AA07", "0.02"),
    ("FOLIC5", "Folic acid", "tablet", "5 mg", "tablet", "B03BB01", "0.02"),
    ("NACL09", "Sodium chloride 0.9%", "infusion", "1000 ml", "bag", "B05BB01", "0.85"),
]
CONSUMABLES = [
    ("SYR5", "Syringe 5 ml", "syringe", "0.06"),
    ("GLOVE-M", "Examination gloves, medium", "glove", "0.03"),
    ("CANN20", "IV cannula 20G", "cannula", "0.45"),
]
# The medicine that starts below its reorder level (the dashboard's low-stock alert).
LOW_ON_ARRIVAL = "SALB100"
# Medicines with a lot expiring soon (the expiry alert), in days from today.
EXPIRING_SOON = {"AMOX500": 20, "IBU400": 45, "CETI10": 60}


def seed(ctx: DemoContext) -> None:
    if Item.objects.exists():
        return
    today = timezone.localdate()
    suppliers = [
        Supplier.objects.create(name="MediSupply Ltd", email="orders@medisupply.example",
                                phone="+44 20 7946 0100", address="4 Wharf Road\nDemo City"),
        Supplier.objects.create(name="CarePharm Wholesale", email="sales@carepharm.example",
                                phone="+44 20 7946 0200", address="12 Mill Lane\nDemo City"),
    ]  # fmt: skip
    store = Location.objects.create(code="STORE", name="Main store", kind=LocationKind.STORE)
    pharmacy = Location.objects.create(code="PHARM", name="Pharmacy", kind=LocationKind.PHARMACY)
    for department in Department.objects.filter(is_active=True)[:4]:
        Location.objects.create(
            code=f"WARD-{department.slug[:30].upper()}", name=f"{department.name} ward",
            kind=LocationKind.WARD, department=department,
        )  # fmt: skip
    for n, (code, generic, form, strength, unit, atc, cost) in enumerate(MEDICINES):
        item = Item.objects.create(
            code=code, name=generic, generic_name=generic, kind=ItemKind.MEDICINE, form=form,
            strength=strength, unit=unit, atc_code=atc, pack_size=28 if unit == "tablet" else 1,
            unit_of_issue="box" if unit in ("tablet", "capsule") else unit,
            preferred_supplier=suppliers[n % 2],
        )  # fmt: skip
        level = 5 if unit in ("inhaler", "pen", "bottle", "bag") else 50
        on_shelf = level - 2 if code == LOW_ON_ARRIVAL else level * 3 + ctx.rng.randint(0, level)
        if code in EXPIRING_SOON:
            _receive(item, pharmacy, level, f"{code}-A", today + timedelta(EXPIRING_SOON[code]),
                     cost, suppliers[n % 2])  # fmt: skip
        later, latest = ctx.rng.randint(200, 700), ctx.rng.randint(300, 900)
        _receive(item, pharmacy, on_shelf, f"{code}-B", today + timedelta(later), cost,
                 suppliers[n % 2])  # fmt: skip
        _receive(item, store, level * 6, f"{code}-C", today + timedelta(latest), cost,
                 suppliers[n % 2])  # fmt: skip
        # Set after the stock is in, so that only the medicine short on arrival is low.
        services.reorder_level_set(
            actor=None, item=item, location=pharmacy, level=level, quantity=level * 4
        )
    for code, name, unit, cost in CONSUMABLES:
        item = Item.objects.create(
            code=code, name=name, kind=ItemKind.CONSUMABLE, unit=unit, unit_of_issue="box",
            pack_size=100, preferred_supplier=suppliers[0],
        )  # fmt: skip
        _receive(item, store, 2000, f"{code}-1", today + timedelta(days=1500), cost, suppliers[0])
    # The demo clinic's prescriptions were written before the catalogue existed: link those
    # naming a stocked medicine to it, so that the dispensing queue has work on first run.
    for code, generic, *_ in MEDICINES:
        Prescription.objects.filter(
            status=PrescriptionStatus.ACTIVE, item_code="", drug__iexact=generic
        ).update(item_code=code)
    ctx.out.write(f"Pharmacy: {len(MEDICINES)} medicines, {len(CONSUMABLES)} consumables.")


def _receive(item, location, quantity, batch, expiry, cost, supplier) -> None:
    if quantity > 0:
        services.stock_receive(
            actor=None, item=item, location=location, batch_number=batch, expiry_date=expiry,
            quantity=quantity, unit_cost=Decimal(cost), supplier=supplier,
        )  # fmt: skip
