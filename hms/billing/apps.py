from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "hms.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from hms.billing import dashboard, handlers  # noqa: F401  (events, menu, widgets)
