from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "hms.inventory"
    label = "inventory"
    verbose_name = "Inventory and pharmacy"

    def ready(self):
        # Menu entries, dashboard widgets and the medicine catalogue that prescribing asks.
        from hms.inventory import dashboard, formulary  # noqa: F401
