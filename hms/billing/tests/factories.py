from datetime import date
from decimal import Decimal

import factory

from hms.billing.models import PriceItem, PriceKind


class PriceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceItem

    code = factory.Sequence(lambda n: f"ITEM-{n}")
    name = factory.Sequence(lambda n: f"Item {n}")
    kind = PriceKind.PROCEDURE
    unit_price = Decimal("50.00")
    tax_rate = Decimal("0.00")
    valid_from = date(2020, 1, 1)
