import factory

from hms.accounts.models import StaffProfile, User
from hms.core.models import Department
from hms.core.permissions import Role

TEST_PASSWORD = "correct-horse-battery-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    role = Role.PATIENT
    is_active = True
    email_verified = True
    password = factory.django.Password(TEST_PASSWORD)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"department-{n}")


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory, role=Role.DOCTOR)
    department = factory.SubFactory(DepartmentFactory)
    specialty = "Internal medicine"
    licence_number = factory.Sequence(lambda n: f"LIC-{n:06d}")
