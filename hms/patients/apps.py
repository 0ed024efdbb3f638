from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "hms.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        from hms.core.audit_labels import register_patient_lookups

        # Imported for their subscribers and dashboard counts.
        from hms.patients import dashboard, search, selectors, services  # noqa: F401

        register_patient_lookups(
            labels=selectors.patient_audit_labels, refs_for_mrn=search.patient_refs_for_mrn
        )
