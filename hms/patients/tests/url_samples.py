"""Arguments for the role-matrix test's visits to the patients app's URLs."""


def _patient() -> dict:
    from hms.patients.tests.factories import PatientFactory

    return {"patient_id": PatientFactory().pk}


def _merge() -> dict:
    from hms.accounts.tests.factories import UserFactory
    from hms.core.permissions import Role
    from hms.patients.services import patient_merge
    from hms.patients.tests.factories import PatientFactory

    admin = UserFactory(role=Role.ADMIN)
    merge = patient_merge(actor=admin, survivor=PatientFactory(), duplicate=PatientFactory())
    return {"merge_id": merge.pk}


def _api_patient() -> dict:
    from hms.patients.tests.factories import PatientFactory

    return {"pk": str(PatientFactory().pk)}


def _identifier() -> dict:
    from hms.patients.tests.factories import PatientFactory

    patient = PatientFactory(identifiers=[{"system": "other", "value": "SAMPLE-1"}])
    return {"patient_id": patient.pk, "identifier_id": patient.identifiers.get().pk}


URL_SAMPLES = {
    "patients:identifier-remove": _identifier,
    "patients:chart": _patient,
    "patients:edit": _patient,
    "patients:photo": _patient,
    "patients:unmerge": _merge,
    "api-patients-detail": _api_patient,
}
