from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "hms.clinical"
    label = "clinical"
    verbose_name = "Clinical"

    def ready(self):
        from hms.clinical import chart, dashboard, services  # noqa: F401  (subscribers, sections)
