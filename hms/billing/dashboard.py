"""Billing's menu entries and its section of the patient chart (the balance, for billing
staff only: doctors and nurses see no financial data)."""

from hms.billing import selectors
from hms.core.chart import ChartSection, register_section
from hms.core.navigation import MenuItem, Section, register_count, register_menu_item
from hms.core.permissions import Perm
from hms.scheduling.fees import register_fee_provider


def _load_account(*, patient, user=None) -> dict:
    balance, credit = selectors.patient_balance(patient.pk)
    return {"balance": balance, "credit": credit}


register_section(
    ChartSection("billing", "Billing", 90, Perm.BILLING_VIEW, "billing/chart/account.html",
                 _load_account)
)  # fmt: skip


def _count_unpaid(*, user) -> str:
    from hms.billing.models import OPEN_STATUSES, Invoice

    return f"{Invoice.objects.filter(status__in=OPEN_STATUSES).count()} unpaid"


register_count("billing:dashboard", _count_unpaid)

for _item in (
    MenuItem("Billing", "billing:dashboard", Perm.BILLING_VIEW,
             "Invoices, payments, the price list, insurance and reports.", order=105,
             section=Section.BACK_OFFICE),
    MenuItem("My bills", "billing:portal-invoices", Perm.PORTAL_USE,
             "Your invoices, receipts and balance.", order=125),
):  # fmt: skip
    register_menu_item(_item)


def _consultation_fees(services) -> dict[int, str]:
    """Today's consultation price of each service (by the service, else its price code), in
    one query, for scheduling's booking pages."""
    from django.db.models import Q
    from django.utils import timezone

    from hms.billing.models import PriceItem, PriceKind
    from hms.billing.templatetags.billing import money

    today = timezone.localdate()
    codes = {s.price_code: s.pk for s in services if s.price_code}
    items = PriceItem.objects.filter(
        Q(service__in=services) | Q(code__in=codes), kind=PriceKind.CONSULTATION,
        valid_from__lte=today,
    ).exclude(valid_to__lt=today).order_by("valid_from")  # fmt: skip
    fees = {}
    for item in items:  # the latest start wins
        service_id = item.service_id if item.service_id else codes.get(item.code)
        if service_id is not None:
            fees[service_id] = money(item.unit_price)
    return fees


register_fee_provider(_consultation_fees)
