from django import forms

from hms.accounts.models import User
from hms.clinical.models import (
    AllergySeverity,
    AllergyStatus,
    DiagnosisStatus,
    EncounterKind,
    LabPriority,
)
from hms.clinical.rules import lab_test_choices
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


class VitalsForm(forms.Form):
    temperature_c = forms.DecimalField(
        label="Temperature (°C)",
        max_digits=4,
        decimal_places=1,
        min_value=25,
        max_value=45,
        required=False,
    )
    pulse_per_min = forms.IntegerField(
        label="Pulse (/min)", min_value=20, max_value=300, required=False
    )
    systolic_mmhg = forms.IntegerField(
        label="Systolic (mmHg)", min_value=40, max_value=300, required=False
    )
    diastolic_mmhg = forms.IntegerField(
        label="Diastolic (mmHg)", min_value=20, max_value=200, required=False
    )
    respiratory_rate_per_min = forms.IntegerField(
        label="Respiratory rate (/min)", min_value=2, max_value=80, required=False
    )
    spo2_percent = forms.IntegerField(label="SpO₂ (%)", min_value=40, max_value=100, required=False)
    weight_kg = forms.DecimalField(
        label="Weight (kg)",
        max_digits=5,
        decimal_places=1,
        min_value=0.2,
        max_value=500,
        required=False,
    )
    height_cm = forms.DecimalField(
        label="Height (cm)", max_digits=4, decimal_places=1, min_value=20, max_value=272,
        required=False,
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if not any(v is not None for v in data.values()):
            raise forms.ValidationError("Enter at least one measurement.")
        systolic, diastolic = data.get("systolic_mmhg"), data.get("diastolic_mmhg")
        if systolic is not None and diastolic is not None and systolic <= diastolic:
            self.add_error("diastolic_mmhg", "Diastolic must be below systolic.")
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
    drug = forms.CharField(max_length=200)
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
