from decimal import Decimal

from django import forms

from hms.billing.models import DESK_METHOD_CHOICES, CopayKind, Payer, PriceItem, PriceKind
from hms.core.models import Department
from hms.scheduling.models import Service

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}
RATE = {"max_digits": 5, "decimal_places": 2, "min_value": Decimal(0), "max_value": Decimal(100)}
DATE = forms.DateInput(attrs={"type": "date"})


class PriceItemForm(forms.Form):
    code = forms.CharField(max_length=40)
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=PriceKind.choices)
    unit_price = forms.DecimalField(**MONEY)
    tax_rate = forms.DecimalField(label="Tax rate (%)", initial=0, **RATE)
    valid_from = forms.DateField(widget=DATE)
    valid_to = forms.DateField(widget=DATE, required=False)
    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(is_active=True).select_related("department"),
        required=False, help_text="For a consultation: the scheduling service it prices.",
    )  # fmt: skip
    lab_test_code = forms.CharField(max_length=20, required=False, help_text="LOINC code.")
    inventory_item_code = forms.CharField(
        max_length=60, required=False, help_text="For a medicine or consumable."
    )


class PriceChangeForm(forms.Form):
    unit_price = forms.DecimalField(label="New unit price", **MONEY)
    valid_from = forms.DateField(widget=DATE, label="From")


class ChargeForm(forms.Form):
    price_item = forms.ModelChoiceField(
        queryset=PriceItem.objects.filter(valid_to__isnull=True), required=False,
        label="From the price list", help_text="Or leave empty and describe and price it.",
    )  # fmt: skip
    description = forms.CharField(max_length=200, required=False)
    kind = forms.ChoiceField(choices=PriceKind.choices, initial=PriceKind.OTHER)
    unit_price = forms.DecimalField(required=False, **MONEY)
    quantity = forms.DecimalField(max_digits=10, decimal_places=3, min_value=Decimal("0.001"),
                                  max_value=Decimal(100000), initial=1)  # fmt: skip
    tax_rate = forms.DecimalField(label="Tax rate (%)", initial=0, **RATE)
    discount = forms.DecimalField(initial=0, help_text="An amount off the line.", **MONEY)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("price_item") and data.get("unit_price") is None:
            self.add_error("unit_price", "Give a price, or choose an item of the price list.")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.TextInput)


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    reason = forms.CharField(max_length=300)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    method = forms.ChoiceField(choices=DESK_METHOD_CHOICES)
    reference = forms.CharField(max_length=100, required=False,
                                help_text="Card slip, transfer reference...")  # fmt: skip


class RefundForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    method = forms.ChoiceField(choices=DESK_METHOD_CHOICES)
    reason = forms.CharField(max_length=300)


class PayerForm(forms.Form):
    name = forms.CharField(max_length=120)
    code = forms.CharField(max_length=40, required=False)
    contact = forms.CharField(max_length=200, required=False)


class CoverageForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.filter(is_active=True))
    policy_number = forms.CharField(max_length=60)
    plan = forms.CharField(max_length=120, required=False)
    copay_kind = forms.ChoiceField(choices=CopayKind.choices, label="Co-pay")
    copay_value = forms.DecimalField(label="Co-pay (% or amount)", **MONEY)
    valid_from = forms.DateField(widget=DATE)
    valid_to = forms.DateField(widget=DATE, required=False)


class ClaimDecisionForm(forms.Form):
    approved_amount = forms.DecimalField(**MONEY)
    reason = forms.CharField(max_length=300, required=False,
                             help_text="The payer's reason, when not all is approved.")  # fmt: skip


class ClaimPaymentForm(forms.Form):
    amount = forms.DecimalField(**MONEY)
    reference = forms.CharField(max_length=100, required=False)


class ReportForm(forms.Form):
    date_from = forms.DateField(widget=DATE, required=False)
    date_to = forms.DateField(widget=DATE, required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", "The end date is before the start date.")
        for name in ("date_from", "date_to"):
            value = data.get(name)
            if value and not 1900 <= value.year <= 2999:
                self.add_error(name, "Choose a date between 1900 and 2999.")
        return data
