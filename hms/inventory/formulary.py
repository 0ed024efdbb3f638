"""Fills clinical's medicine catalogue (hms/clinical/medicines.py) with the pharmacy's active
medicines, so that prescribing suggests them without clinical importing this app."""

from django.db.models import Q

from hms.clinical.medicines import Medicine, MedicineCatalogue, register_catalogue
from hms.inventory.models import Item, ItemKind


def _medicine(item: Item) -> Medicine:
    return Medicine(
        code=item.code, name=item.generic_name or item.name, strength=item.strength, form=item.form
    )


def _medicines():
    return Item.objects.filter(kind=ItemKind.MEDICINE, is_active=True).only(
        "code", "name", "generic_name", "strength", "form"
    )


def _search(query: str, limit: int) -> list[Medicine]:
    matches = _medicines().filter(
        Q(name__icontains=query)
        | Q(generic_name__icontains=query)
        | Q(brand__icontains=query)
        | Q(code__istartswith=query)
    )
    return [_medicine(item) for item in matches.order_by("name")[:limit]]


def _get(code: str) -> Medicine | None:
    item = _medicines().filter(code=code.strip().upper()).first()
    return _medicine(item) if item else None


register_catalogue(MedicineCatalogue(search=_search, get=_get))
