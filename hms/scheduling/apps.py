from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "hms.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
