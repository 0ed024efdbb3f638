"""Arguments for the role-matrix test's visits to the pharmacy and stores' URLs."""


def _item() -> dict:
    from hms.inventory.tests.factories import ItemFactory

    return {"pk": ItemFactory().pk}


def _alert() -> dict:
    from hms.inventory.models import Alert, AlertKind
    from hms.inventory.tests.factories import ItemFactory

    return {
        "pk": Alert.objects.create(kind=AlertKind.LOW_STOCK, item=ItemFactory(), message="x").pk
    }


def _prescription() -> dict:
    from hms.clinical.tests.factories import PrescriptionFactory

    return {"pk": PrescriptionFactory().pk}


def _order(**extra):
    def make() -> dict:
        from hms.inventory.models import PurchaseOrder, PurchaseOrderLine
        from hms.inventory.tests.factories import ItemFactory, LocationFactory, SupplierFactory

        order = PurchaseOrder.objects.create(
            supplier=SupplierFactory(), location=LocationFactory(), status="sent"
        )
        PurchaseOrderLine.objects.create(order=order, item=ItemFactory(), quantity=5)
        return {"pk": order.pk, **extra}

    return make


URL_SAMPLES = {
    "inventory:item": _item,
    "inventory:item-edit": _item,
    "inventory:item-adjust": _item,
    "inventory:item-move": _item,
    "inventory:item-reorder": _item,
    "inventory:alert-resolve": _alert,
    "inventory:dispense": _prescription,
    "inventory:order": _order(),
    "inventory:order-pdf": _order(),
    "inventory:order-receive": _order(),
    "inventory:order-step": _order(step="approve"),
    "api-inventory-order-receive": _order(),
}
