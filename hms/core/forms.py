from django import forms

from hms.core.errors import DomainError


def form_add_domain_error(form, exc: DomainError) -> None:
    """Show a service's refusal on the form: on the fields it names, else above the form."""
    placed = False
    for name, errors in (exc.fields or {}).items():
        target = name if name in form.fields else None
        for error in errors if isinstance(errors, list) else [errors]:
            form.add_error(target, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, help_text="e.g. auth.login_failed, or auth.")
    actor = forms.CharField(required=False, label="Actor email")
    mrn = forms.CharField(required=False, max_length=20, label="Patient MRN")
    patient = forms.CharField(required=False, label="Patient id")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
