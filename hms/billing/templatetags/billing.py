from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

from hms.billing.models import money as to_money

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """1234.5 -> "1,234.50 GBP" (two decimals, half-up; the currency of the setting)."""
    if value in (None, ""):
        return ""
    try:
        amount = to_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f} {currency or settings.BILLING_CURRENCY}"


@register.filter
def amount(value) -> str:
    """1234.5 -> "1,234.50" (no currency: a table's column says it)."""
    if value in (None, ""):
        return ""
    return f"{to_money(Decimal(str(value))):,.2f}"


@register.filter
def cell(row: dict, key: str):
    """A report row's value for a column."""
    return row.get(key, "")
