from django import forms
from django.urls import reverse_lazy

from hms.core.errors import DomainError
from hms.core.phones import PhoneFormField
from hms.patients.models import IdentifierSystem, Patient
from hms.patients.search import patient_by_mrn
from hms.patients.services import PHOTO_MAX_BYTES, birth_date_check

DEMOGRAPHIC_FIELDS = [
    "given_name", "middle_names", "family_name", "birth_date", "sex", "gender_identity",
    "preferred_language", "phone", "email", "address_line", "city", "postal_code", "country",
    "emergency_contact_name", "emergency_contact_phone", "emergency_contact_relation",
    "next_of_kin_name", "next_of_kin_phone", "next_of_kin_relation", "insurance_payer",
    "insurance_policy_number", "consent_data_sharing", "consent_sms", "consent_email",
]  # fmt: skip

FIELD_GROUPS = [
    ("Demographics", DEMOGRAPHIC_FIELDS[:7]),
    ("Contact and address", DEMOGRAPHIC_FIELDS[7:13]),
    ("Emergency contact", DEMOGRAPHIC_FIELDS[13:16]),
    ("Next of kin", DEMOGRAPHIC_FIELDS[16:19]),
    ("Insurance", DEMOGRAPHIC_FIELDS[19:21]),
    ("Consents", DEMOGRAPHIC_FIELDS[21:24]),
]


class PatientForm(forms.ModelForm):
    """Registration and edit of a patient's details (input validation only)."""

    photo = forms.FileField(
        required=False,
        help_text="Optional. JPEG or PNG, at most 2 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    identifier_system = forms.ChoiceField(
        label="Extra identifier: type",
        choices=[("", "—")] + list(IdentifierSystem.choices),
        required=False,
    )
    identifier_value = forms.CharField(
        label="Extra identifier: value", max_length=100, required=False
    )
    phone = PhoneFormField(required=False)
    emergency_contact_phone = PhoneFormField(required=False)
    next_of_kin_phone = PhoneFormField(required=False)

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        labels = {
            "consent_data_sharing": "Agrees to share data with other care providers",
            "consent_sms": "Agrees to receive text messages",
            "consent_email": "Agrees to receive email",
        }

    def clean_birth_date(self):
        born = self.cleaned_data["birth_date"]
        try:
            birth_date_check(born)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return born

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > PHOTO_MAX_BYTES:
            raise forms.ValidationError("The photo must be at most 2 MB.")
        return photo

    def clean(self):
        data = super().clean()
        system, value = data.get("identifier_system"), (data.get("identifier_value") or "").strip()
        if bool(system) != bool(value):
            self.add_error("identifier_value", "Give both the type and the value, or neither.")
        return data

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in DEMOGRAPHIC_FIELDS}

    def identifiers(self) -> list[dict]:
        system = self.cleaned_data.get("identifier_system")
        value = (self.cleaned_data.get("identifier_value") or "").strip()
        return [{"system": system, "value": value}] if system and value else []

    def groups(self):
        return [(title, [self[name] for name in names]) for title, names in FIELD_GROUPS]


class MergeForm(forms.Form):
    survivor = forms.CharField(label="MRN of the record to keep", max_length=20)
    duplicate = forms.CharField(label="MRN of the duplicate record", max_length=20)
    reason = forms.CharField(max_length=300, required=False)


class PatientPickerInput(forms.TextInput):
    """A text box that lists matching patients (name, MRN or phone) as one types (htmx); a
    click on one puts its MRN in the box. Without scripts, an MRN typed in full still works."""

    template_name = "patients/widgets/patient_picker.html"

    def __init__(self, attrs=None):
        super().__init__(
            {
                "autocomplete": "off",
                "placeholder": "Name, MRN or phone",
                "hx-get": reverse_lazy("patients:pick"),
                "hx-trigger": "input changed delay:300ms, search",
                **(attrs or {}),
            }
        )

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        choices_id = f"{context['widget']['attrs'].get('id', name)}-choices"
        context["widget"]["attrs"].update(
            {"hx-target": f"#{choices_id}", "aria-controls": choices_id}
        )
        context["choices_id"] = choices_id
        return context


class PatientField(forms.CharField):
    """A patient chosen with the picker (or an MRN typed with or without its dash): cleans to
    the current Patient record."""

    widget = PatientPickerInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Patient")
        kwargs.setdefault("max_length", 120)
        kwargs.setdefault("help_text", "Type a name, MRN or phone number, then choose the patient.")
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        patient = patient_by_mrn(text)
        if patient is None:
            raise forms.ValidationError(
                "Choose a patient from the list (or type their MRN).", code="no_patient"
            )
        return patient
