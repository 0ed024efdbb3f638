from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "hms.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        from hms.core.audit_labels import register_patient_lookups
        from hms.patients import search, selectors, services  # noqa: F401  (event subscribers)

        register_patient_lookups(
            labels=selectors.patient_audit_labels, refs_for_mrn=search.patient_refs_for_mrn
        )
