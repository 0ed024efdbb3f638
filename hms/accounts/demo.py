from django.utils.text import slugify

from hms.accounts.models import StaffProfile, User
from hms.core.demo import DEMO_PASSWORD, DemoContext
from hms.core.models import Department
from hms.core.permissions import Role

DEPARTMENTS = [
    ("General Medicine", "Adult outpatient and inpatient medicine.", "Block A, floor 1"),
    ("Cardiology", "Heart and circulation: clinics, ECG and echocardiography.", "Block B, floor 2"),
    ("Paediatrics", "Care for babies, children and young people.", "Block C, floor 1"),
    ("Orthopaedics", "Bones, joints and sports injuries.", "Block B, floor 1"),
    ("Dermatology", "Skin, hair and nail conditions.", "Block A, floor 3"),
    ("Emergency", "Accident and emergency, open 24 hours.", "Ground floor, main entrance"),
]

DEMO_ACCOUNTS = [
    (Role.ADMIN, "admin@demo.hms", "Ada", "Admin", None, "", ""),
    (
        Role.DOCTOR,
        "doctor@demo.hms",
        "Grace",
        "Okafor",
        "General Medicine",
        "General practice",
        "GMC-7001001",
    ),
    (Role.NURSE, "nurse@demo.hms", "Florence", "Njeri", "General Medicine", "", "NMC-23A4567B"),
    (Role.RECEPTIONIST, "receptionist@demo.hms", "Rafael", "Santos", None, "", ""),
    (Role.PHARMACIST, "pharmacist@demo.hms", "Priya", "Raman", None, "", "GPhC-2087654"),
    (Role.BILLING, "billing@demo.hms", "Bilal", "Haddad", None, "", ""),
    (Role.LAB, "lab@demo.hms", "Lena", "Fischer", None, "", "HCPC-BS12345"),
    (Role.PATIENT, "patient@demo.hms", "Pat", "Jones", None, "", ""),
]

SPECIALTIES = {
    "General Medicine": "Internal medicine",
    "Cardiology": "Cardiology",
    "Paediatrics": "Paediatrics",
    "Orthopaedics": "Orthopaedic surgery",
    "Dermatology": "Dermatology",
    "Emergency": "Emergency medicine",
}


def seed(ctx: DemoContext) -> None:
    departments = {}
    for name, description, location in DEPARTMENTS:
        departments[name], _ = Department.objects.get_or_create(
            slug=slugify(name),
            defaults={"name": name, "description": description, "location": location},
        )
    for role, email, given, family, department, specialty, licence in DEMO_ACCOUNTS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                given_name=given,
                family_name=family,
                role=role,
                email_verified=True,
                is_staff=False,
            )
        if role != Role.PATIENT:
            StaffProfile.objects.get_or_create(
                user=user,
                defaults={
                    "department": departments.get(department),
                    "job_title": role.label,
                    "specialty": specialty,
                    "licence_number": licence,
                },
            )
    # Two more doctors per department, so schedules and search have someone to find.
    for index, (name, department) in enumerate(departments.items()):
        for n in range(2):
            email = f"dr.{slugify(name)}.{n + 1}@demo.hms"
            if User.objects.filter(email=email).exists():
                continue
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                given_name=ctx.faker.first_name(),
                family_name=ctx.faker.last_name(),
                role=Role.DOCTOR,
                email_verified=True,
            )
            StaffProfile.objects.create(
                user=user,
                department=department,
                job_title="Consultant" if n == 0 else "Registrar",
                specialty=SPECIALTIES[name],
                licence_number=f"GMC-{7100000 + index * 10 + n}",
            )
