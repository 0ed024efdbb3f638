"""Billing's menu entries and its section of the patient chart (the balance, for billing
staff only: doctors and nurses see no financial data)."""

from hms.billing import selectors
from hms.core.chart import ChartSection, register_section
from hms.core.navigation import MenuItem, register_menu_item
from hms.core.permissions import Perm


def _load_account(*, patient, user=None) -> dict:
    balance, credit = selectors.patient_balance(patient.pk)
    return {"balance": balance, "credit": credit}


register_section(
    ChartSection("billing", "Billing", 90, Perm.BILLING_VIEW, "billing/chart/account.html",
                 _load_account)
)  # fmt: skip

for _item in (
    MenuItem("Billing", "billing:dashboard", Perm.BILLING_VIEW,
             "Invoices, payments, the price list, insurance and reports.", order=105),
    MenuItem("My bills", "billing:portal-invoices", Perm.PORTAL_USE,
             "Your invoices, receipts and balance.", order=125),
):  # fmt: skip
    register_menu_item(_item)
