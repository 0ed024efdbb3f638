from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "hms.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from hms.scheduling import chart, dashboard, handlers  # noqa: F401  (events, sections)
