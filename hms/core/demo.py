import random
from dataclasses import dataclass

from faker import Faker

from hms.core.models import Hospital

DEMO_PASSWORD = "demo-pass-2026"


@dataclass
class DemoContext:
    faker: Faker
    rng: random.Random
    patients: int
    out: object


# One account per role (the contract in ARCHITECTURE.md); accounts/demo.py creates them.
DEMO_ACCOUNTS = [
    ("Administrator", "admin@demo.hms"),
    ("Doctor", "doctor@demo.hms"),
    ("Nurse", "nurse@demo.hms"),
    ("Receptionist", "receptionist@demo.hms"),
    ("Pharmacist", "pharmacist@demo.hms"),
    ("Billing clerk", "billing@demo.hms"),
    ("Lab technician", "lab@demo.hms"),
    ("Patient", "patient@demo.hms"),
]


def print_demo_accounts(out) -> None:
    out.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD}):")
    for role, email in DEMO_ACCOUNTS:
        out.write(f"  {role:<16} {email}")
    out.write("")


def seed(ctx: DemoContext) -> None:
    Hospital.objects.get_or_create(
        pk=1,
        defaults={
            "name": "St. Demo General Hospital",
            "tagline": "Open-source care, around the clock.",
            "address": "1 Infirmary Road\nDemo City DC1 2AB",
            "phone": "+44 20 7946 0000",
            "emergency_phone": "+44 20 7946 0999",
            "email": "contact@demo.hms",
            "opening_hours": "Outpatients Mon–Fri 08:00–18:00; Emergency 24/7",
        },
    )
