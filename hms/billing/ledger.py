"""The arithmetic of billing, without queries: line amounts, invoice totals, balances, the
insurance split. One rounding rule everywhere: half-up to cents (`models.money`), applied per
line (net, then tax), so that an invoice's total is exactly the sum of its lines."""

from dataclasses import dataclass
from decimal import Decimal

from hms.billing.models import ZERO, CopayKind, money


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount: Decimal, tax_rate: Decimal
) -> LineAmounts:
    """net = quantity x unit price - discount (never below zero); tax = net x rate."""
    gross = money(Decimal(quantity) * Decimal(unit_price))
    net = max(ZERO, gross - money(discount))
    tax = money(net * Decimal(tax_rate) / Decimal(100))
    return LineAmounts(net=net, tax=tax, total=net + tax)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal


def invoice_totals(lines) -> Totals:
    """Sums of the lines (each already rounded): total = sum of line totals."""
    lines = list(lines)
    return Totals(
        subtotal=sum((line.net for line in lines), ZERO),
        tax_total=sum((line.tax for line in lines), ZERO),
        discount_total=sum((money(line.discount) for line in lines), ZERO),
        total=sum((line.total for line in lines), ZERO),
    )


@dataclass(frozen=True)
class InvoiceMoney:
    total: Decimal
    payments: Decimal  # received for the invoice (credit applied included)
    refunds: Decimal  # given back from the invoice (or moved into the patient's credit)
    credits: Decimal  # credit notes

    @property
    def paid(self) -> Decimal:
        return self.payments - self.refunds

    @property
    def balance(self) -> Decimal:
        return self.total - self.payments + self.refunds - self.credits


def copay_split(
    *, total: Decimal, copay_kind: str, copay_value: Decimal
) -> tuple[Decimal, Decimal]:
    """(payer share, patient share) of an invoice's total under a coverage."""
    if copay_kind == CopayKind.PERCENT:
        patient = money(total * Decimal(copay_value) / Decimal(100))
    else:
        patient = min(total, money(copay_value))
    return total - patient, patient
