"""Demo patients: ctx.patients realistic records (one linked to patient@demo.hms), plus one
near-duplicate pair so reception can try the duplicate warning and the merge. Idempotent."""

from datetime import date, timedelta

from hms.accounts.models import User
from hms.core.demo import DemoContext
from hms.patients.models import IdentifierSystem, Patient, Sex
from hms.patients.services import patient_create

LANGUAGES = ["English"] * 8 + ["Spanish", "Polish", "Urdu", "French", "Portuguese"]
PAYERS = ["", "", "NHS", "Bupa", "AXA Health", "Vitality"]
RELATIONS = ["Spouse", "Parent", "Sibling", "Child", "Friend"]
DUPLICATE_PAIR = ("Jonathan", "Jonathon", "Whitfield", date(1979, 4, 23))


def _person(ctx: DemoContext) -> dict:
    faker, rng = ctx.faker, ctx.rng
    sex = rng.choice([Sex.FEMALE, Sex.MALE])
    given = faker.first_name_female() if sex == Sex.FEMALE else faker.first_name_male()
    family = faker.last_name()
    payer = rng.choice(PAYERS)
    return {
        "given_name": given,
        "family_name": family,
        "birth_date": date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 80)),
        "sex": sex,
        "preferred_language": rng.choice(LANGUAGES),
        "phone": f"+44 7700 9{rng.randrange(10000, 99999)}",
        "email": f"{given}.{family}@example.org".lower().replace("'", ""),
        "address_line": faker.street_address(),
        "city": faker.city(),
        "postal_code": faker.postcode(),
        "country": "United Kingdom",
        "emergency_contact_name": faker.name(),
        "emergency_contact_phone": f"+44 7700 8{rng.randrange(10000, 99999)}",
        "emergency_contact_relation": rng.choice(RELATIONS),
        "next_of_kin_name": faker.name(),
        "next_of_kin_relation": rng.choice(RELATIONS),
        "insurance_payer": payer,
        "insurance_policy_number": f"POL-{rng.randrange(100000, 999999)}" if payer else "",
        "consent_data_sharing": rng.random() < 0.8,
        "consent_sms": rng.random() < 0.7,
        "consent_email": rng.random() < 0.6,
    }


def seed(ctx: DemoContext) -> None:
    portal_user = User.objects.filter(email="patient@demo.hms").first()
    if portal_user is not None and not Patient.objects.filter(user=portal_user).exists():
        patient_create(
            actor=None,
            user=portal_user,
            **{
                **_person(ctx),
                "given_name": portal_user.given_name,
                "family_name": portal_user.family_name,
                "email": portal_user.email,
                "birth_date": date(1988, 6, 14),
                "sex": Sex.OTHER,
            },
            identifiers=[{"system": IdentifierSystem.NATIONAL_ID, "value": "QQ123456C"}],
        )
    first, second, family, born = DUPLICATE_PAIR
    if not Patient.objects.filter(family_name=family).exists():
        for given in (first, second):
            patient_create(
                actor=None,
                **{**_person(ctx), "given_name": given, "family_name": family, "birth_date": born},
            )
    missing = ctx.patients - Patient.objects.count()
    for _ in range(max(0, missing)):
        patient_create(actor=None, **_person(ctx))
    ctx.out.write(f"Patients: {Patient.objects.count()} on the register.")
