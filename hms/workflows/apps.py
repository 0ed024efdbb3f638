from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "hms.workflows"
    label = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from hms.workflows import catalogue, dashboard, engine, navigation  # noqa: F401
