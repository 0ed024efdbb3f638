"""Arguments for the role-matrix test's visits to the clinical record's URLs."""


def _encounter() -> dict:
    from hms.clinical.tests.factories import EncounterFactory

    return {"pk": EncounterFactory().pk}


def _appointment_encounter() -> dict:
    import uuid

    from hms.clinical.tests.factories import EncounterFactory

    appointment_id = uuid.uuid4()
    EncounterFactory(appointment_id=str(appointment_id))
    return {"appointment_id": appointment_id}


def _patient() -> dict:
    from hms.patients.tests.factories import PatientFactory

    return {"patient_id": PatientFactory().pk}


def _note() -> dict:
    from hms.clinical.tests.factories import NoteFactory

    return {"pk": NoteFactory().pk}


def _order() -> dict:
    from hms.clinical.tests.factories import LabOrderFactory

    return {"pk": LabOrderFactory().pk}


def _result() -> dict:
    from hms.clinical.tests.factories import LabResultFactory

    return {"pk": LabResultFactory().pk}


def _attachment() -> dict:
    # A row without a file on disk: the matrix checks access, not storage (the view answers
    # 404 for a missing file), and nothing is written under MEDIA_ROOT.
    from hms.clinical.models import Attachment
    from hms.patients.tests.factories import PatientFactory

    attachment = Attachment.objects.create(
        patient=PatientFactory(),
        file="clinical/attachments/matrix-sample.pdf",
        original_name="sample.pdf",
        content_type="application/pdf",
        size=10,
    )
    return {"pk": attachment.pk}


def _prescription() -> dict:
    from hms.clinical.tests.factories import PrescriptionFactory

    return {"pk": PrescriptionFactory().pk}


def _allergy() -> dict:
    from hms.clinical.tests.factories import AllergyFactory

    return {"pk": AllergyFactory().pk}


def _api(factory_name: str):
    def make() -> dict:
        from hms.clinical.tests import factories

        return {"pk": str(getattr(factories, factory_name)().pk)}

    return make


def _api_diagnosis() -> dict:
    from hms.clinical.models import Diagnosis
    from hms.patients.tests.factories import PatientFactory

    return {"pk": str(Diagnosis.objects.create(patient=PatientFactory(), description="x").pk)}


URL_SAMPLES = {
    "clinical:encounter-open": _patient,
    "clinical:appointment-encounter": _appointment_encounter,
    **{
        f"clinical:{name}": _encounter
        for name in (
            "encounter",
            "encounter-start",
            "encounter-close",
            "vitals-add",
            "diagnosis-add",
            "allergy-add",
            "prescription-add",
            "note-add",
            "lab-order-add",
            "attachment-add",
        )
    },  # fmt: skip
    "clinical:note-edit": _note,
    "clinical:note-sign": _note,
    "clinical:note-amend": _note,
    "clinical:attachment": _attachment,
    "clinical:lab-order": _order,
    "clinical:lab-order-collect": _order,
    "clinical:lab-result-add": _order,
    "clinical:lab-result-release": _result,
    "clinical:lab-result-correct": _result,
    "api-encounters-detail": _api("EncounterFactory"),
    "api-encounters-start": _api("EncounterFactory"),
    "api-encounters-close": _api("EncounterFactory"),
    "api-vitals-detail": _api("VitalsFactory"),
    "api-diagnoses-detail": _api_diagnosis,
    "api-allergies-detail": _api("AllergyFactory"),
    "api-allergies-status": _api("AllergyFactory"),
    "api-prescriptions-stop": _api("PrescriptionFactory"),
    "clinical:prescription-stop": _prescription,
    "clinical:allergy-status": _allergy,
    "api-prescriptions-detail": _api("PrescriptionFactory"),
    "api-notes-detail": _api("NoteFactory"),
    "api-notes-sign": _api("NoteFactory"),
    "api-notes-amend": _api("NoteFactory"),
    "api-lab-orders-detail": _api("LabOrderFactory"),
    "api-lab-orders-collect": _api("LabOrderFactory"),
    "api-lab-results-detail": _api("LabResultFactory"),
    "api-lab-results-release": _api("LabResultFactory"),
    "api-lab-results-correct": _api("LabResultFactory"),
}
