import datetime

import factory

from hms.patients.models import Patient, Sex


class PatientFactory(factory.django.DjangoModelFactory):
    """Patients made through the registration service, so MRN and search keys are real; by the
    system unless an `actor` is given."""

    class Meta:
        model = Patient

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    birth_date = factory.Faker(
        "date_between", start_date=datetime.date(1930, 1, 1), end_date=datetime.date(2020, 12, 31)
    )
    sex = Sex.FEMALE
    phone = factory.Sequence(lambda n: f"+44 7700 {n:06d}")
    email = factory.Sequence(lambda n: f"patient{n}@example.org")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from hms.core.access import as_system
        from hms.patients.services import patient_create

        actor = kwargs.pop("actor", None)
        if actor is not None:
            return patient_create(actor=actor, **kwargs)
        with as_system():  # test data, made as a seeder makes it
            return patient_create(actor=None, **kwargs)
