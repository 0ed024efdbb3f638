from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "hms.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        from hms.patients import dashboard, services  # noqa: F401  (event subscribers, counts)
