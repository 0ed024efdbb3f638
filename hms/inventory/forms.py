"""Input validation of the pharmacy and stores pages (the services hold the rules)."""

from django import forms

from hms.core.models import Department
from hms.inventory.models import (
    AdjustmentReason,
    Item,
    ItemKind,
    Location,
    LocationKind,
    Supplier,
)

MAX_QUANTITY = 1_000_000


def _items():
    return Item.objects.filter(is_active=True).order_by("name")


def _locations():
    return Location.objects.filter(is_active=True).order_by("kind", "name")


class ItemForm(forms.Form):
    code = forms.CharField(max_length=40)
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ItemKind.choices)
    generic_name = forms.CharField(max_length=200, required=False)
    brand = forms.CharField(max_length=200, required=False)
    form = forms.CharField(max_length=60, required=False, help_text="e.g. tablet, capsule, syrup")
    strength = forms.CharField(max_length=60, required=False, help_text="e.g. 500 mg")
    unit = forms.CharField(max_length=30, initial="tablet", help_text="what one counts")
    atc_code = forms.CharField(label="ATC code", max_length=10, required=False)
    unit_of_issue = forms.CharField(max_length=30, required=False, help_text="e.g. strip, bottle")
    pack_size = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)
    preferred_supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.filter(is_active=True), required=False
    )


class ItemEditForm(ItemForm):
    code = None
    is_active = forms.BooleanField(required=False, label="In use (offered to prescribers)")


class ReceiveForm(forms.Form):
    item = forms.ModelChoiceField(queryset=Item.objects.none())
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    batch_number = forms.CharField(max_length=60, label="Lot (batch number)")
    expiry_date = forms.DateField(
        required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, initial=0)
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.filter(is_active=True), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = _items()
        self.fields["location"].queryset = _locations()


class AdjustForm(forms.Form):
    stock = forms.ChoiceField(label="Lot at location")
    quantity = forms.IntegerField(
        min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY, help_text="+ to add, − to take out"
    )
    reason = forms.ChoiceField(choices=AdjustmentReason.choices)
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, stock_rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = {f"{s.lot_id}:{s.location_id}": s for s in stock_rows}
        self.fields["stock"].choices = [
            (key, f"{s.lot.batch_number} (exp. {s.lot.expiry_date or '—'}) at {s.location} "
                  f"· {s.on_hand}")
            for key, s in self.rows.items()
        ]  # fmt: skip

    def clean_quantity(self):
        if self.cleaned_data["quantity"] == 0:
            raise forms.ValidationError("Give a non-zero quantity.")
        return self.cleaned_data["quantity"]


class MoveForm(forms.Form):
    """A transfer between stores or an issue to a ward."""

    source = forms.ModelChoiceField(queryset=Location.objects.none(), label="From")
    destination = forms.ModelChoiceField(queryset=Location.objects.none(), label="To")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = _locations()
        self.fields["destination"].queryset = _locations()


class ReorderForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    level = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY, label="Reorder level")
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY, label="Reorder quantity")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()


class DispenseForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations().filter(
            kind__in=[LocationKind.PHARMACY, LocationKind.WARD]
        )


class SupplierForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class LocationForm(forms.Form):
    code = forms.CharField(max_length=40)
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=LocationKind.choices)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)


class OrderForm(forms.Form):
    supplier = forms.ModelChoiceField(queryset=Supplier.objects.filter(is_active=True))
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label="Deliver to")
    item = forms.ModelChoiceField(queryset=Item.objects.none())
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, initial=0)
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = _items()
        self.fields["location"].queryset = _locations()


class ReceiptLineForm(forms.Form):
    """One order line's goods receipt (a formset, one form per outstanding line)."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    batch_number = forms.CharField(max_length=60, required=False, label="Lot (batch number)")
    expiry_date = forms.DateField(
        required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY, required=False)
    unit_cost = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2, required=False)

    def clean(self):
        data = super().clean()
        if data.get("quantity") and not (data.get("batch_number") or "").strip():
            self.add_error("batch_number", "Give the lot's batch number.")
        return data


ReceiptFormSet = forms.formset_factory(ReceiptLineForm, extra=0, max_num=200, absolute_max=200)


class ReportPeriodForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The period ends before it starts.")
        return data


class CatalogueImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, a header line naming the columns: code, name, kind, generic_name, "
        "brand, form, strength, unit, atc_code, unit_of_issue, pack_size, is_active.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError("At most 2 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
