from django import forms
from django.urls import reverse

from hms.accounts.models import User
from hms.clinical.models import (
    AllergySeverity,
    AllergyStatus,
    DiagnosisStatus,
    EncounterKind,
    LabPriority,
)
from hms.clinical.rules import lab_test_choices
from hms.clinical.vitals import DECIMAL_PLACES, VITAL_SIGNS, VitalSign, blood_pressure_error
from hms.core.models import Department
from hms.core.permissions import CLINICAL_ROLES


class EncounterOpenForm(forms.Form):
    kind = forms.ChoiceField(choices=EncounterKind.choices)
    practitioner = forms.ModelChoiceField(
        queryset=User.objects.filter(role__in=CLINICAL_ROLES, is_active=True).order_by(
            "family_name"
        ),
        label="Treating practitioner",
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True), required=False
    )
    reason = forms.CharField(max_length=300, required=False)


def _vital_field(sign: VitalSign) -> forms.Field:
    limits = {"label": sign.label, "min_value": sign.low, "max_value": sign.high, "required": False}
    if sign.max_digits:
        return forms.DecimalField(
            max_digits=sign.max_digits, decimal_places=DECIMAL_PLACES, **limits
        )
    return forms.IntegerField(**limits)


class VitalsForm(forms.Form):
    """One field per vital sign of `vitals.VITAL_SIGNS`, with its possible range."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for sign in VITAL_SIGNS:
            self.fields[sign.field] = _vital_field(sign)

    def clean(self):
        data = super().clean()
        if not any(v is not None for v in data.values()):
            raise forms.ValidationError("Enter at least one measurement.")
        if message := blood_pressure_error(data):
            self.add_error("diastolic_mmhg", message)
        return data


class EncounterPageForm(forms.Form):
    """A form on the encounter page, which holds several: each prefixes its fields' HTML ids
    with its own name (two forms there have a "status" and a "description")."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class DiagnosisForm(EncounterPageForm):
    id_prefix = "diagnosis"

    code = forms.CharField(
        label="ICD-10 code",
        max_length=80,  # the same box searches by words
        required=False,
        widget=forms.TextInput(
            attrs={
                "hx-get": "",  # set by the view to the code search URL
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#icd10-results",
                "autocomplete": "off",
                "list": "icd10-options",
            }
        ),
        help_text="Type a code or words (e.g. “E11.9” or “type 2 diabetes”).",
    )
    description = forms.CharField(label="Description (free text)", max_length=300, required=False)
    status = forms.ChoiceField(choices=DiagnosisStatus.choices, initial=DiagnosisStatus.ACTIVE)
    onset_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, search_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["hx-get"] = search_url

    def clean(self):
        data = super().clean()
        if not data.get("code") and not data.get("description"):
            raise forms.ValidationError("Enter an ICD-10 code or a description.")
        return data


class AllergyForm(EncounterPageForm):
    id_prefix = "allergy"

    substance = forms.CharField(max_length=200)
    reaction = forms.CharField(max_length=200, required=False)
    severity = forms.ChoiceField(choices=AllergySeverity.choices, initial=AllergySeverity.MODERATE)
    status = forms.ChoiceField(choices=AllergyStatus.choices, initial=AllergyStatus.ACTIVE)
    is_intolerance = forms.BooleanField(label="Intolerance (not an allergy)", required=False)


MAX_QUANTITY = 100_000  # far above any dispensed amount; the column overflows near 2**31


class PrescriptionForm(forms.Form):
    drug = forms.CharField(
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "hx-get": "",  # set below to the catalogue search URL
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#medicine-results",
                "autocomplete": "off",
                "list": "medicine-options",
            }
        ),
        help_text="Pick a medicine from the pharmacy's catalogue, or type any drug (it is then "
        "marked as not stocked).",
    )
    strength = forms.CharField(max_length=60, required=False, help_text="e.g. 500 mg")
    dose = forms.CharField(max_length=60, required=False, help_text="e.g. 1 tablet")
    route = forms.CharField(max_length=40, required=False, initial="oral")
    frequency = forms.CharField(max_length=60, required=False, help_text="e.g. three times a day")
    duration = forms.CharField(max_length=60, required=False, help_text="e.g. 7 days")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, required=False)
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    acknowledge_allergy_warning = forms.BooleanField(
        required=False,
        label="I have seen the allergy warning and still prescribe this drug",
    )

    def __init__(self, *args, allergy_warning: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["drug"].widget.attrs["hx-get"] = reverse("clinical:medicine-search")
        if not allergy_warning:
            self.fields["acknowledge_allergy_warning"].widget = forms.HiddenInput()


class NoteForm(forms.Form):
    subjective = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    objective = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    assessment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    sign = forms.BooleanField(label="Sign now (the note becomes read-only)", required=False)

    def clean(self):
        data = super().clean()
        if not any(data.get(f) for f in ("subjective", "objective", "assessment", "plan")):
            raise forms.ValidationError("The note is empty.")
        return data


class NoteEditForm(NoteForm):
    sign = None


class AmendmentForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(max_length=300, required=False)


class LabOrderForm(forms.Form):
    test_code = forms.ChoiceField(label="Test", choices=lab_test_choices)
    priority = forms.ChoiceField(choices=LabPriority.choices, initial=LabPriority.ROUTINE)
    clinical_info = forms.CharField(label="Clinical information", max_length=300, required=False)


class LabResultForm(forms.Form):
    value = forms.DecimalField(max_digits=12, decimal_places=4, required=False)
    value_text = forms.CharField(
        label="Or a text result", max_length=200, required=False, help_text="e.g. “negative”"
    )
    unit = forms.CharField(max_length=40, required=False, help_text="Blank: the test's unit")
    reference_low = forms.DecimalField(max_digits=12, decimal_places=4, required=False)
    reference_high = forms.DecimalField(max_digits=12, decimal_places=4, required=False)

    def clean(self):
        data = super().clean()
        if data.get("value") is None and not data.get("value_text"):
            raise forms.ValidationError("Enter the result.")
        return data


class LabResultCorrectionForm(forms.Form):
    value = forms.DecimalField(
        label="Corrected value", max_digits=12, decimal_places=4, required=False
    )
    value_text = forms.CharField(label="Or a text result", max_length=200, required=False)
    reason = forms.CharField(label="Reason for the correction", max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("value") is None and not data.get("value_text"):
            raise forms.ValidationError("Enter the corrected result.")
        return data


class AttachmentForm(EncounterPageForm):
    id_prefix = "attachment"

    file = forms.FileField(
        help_text="PDF, PNG or JPEG, at most 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    description = forms.CharField(max_length=200, required=False)
