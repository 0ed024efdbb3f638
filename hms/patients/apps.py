from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "hms.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        from hms.core.audit_labels import register_patient_lookups
        from hms.patients import dashboard, selectors, services  # noqa: F401  (subscribers, counts)

        register_patient_lookups(
            labels=selectors.patient_audit_labels, refs_for_mrn=selectors.patient_refs_for_mrn
        )
