from django import forms

from hms.accounts.models import User
from hms.core.models import Department
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.forms import PatientField
from hms.scheduling.fees import fee_label, fees_for
from hms.scheduling.models import BookingKind, ExceptionKind, Service, Weekday


class ServiceChoiceField(forms.ModelChoiceField):
    """A choice of service that shows each one's fee (from billing, through `fees`)."""

    fees: dict[int, str] = {}

    def label_from_instance(self, obj) -> str:
        return fee_label(obj, self.fees)

    def show_fees(self) -> None:
        self.fees = fees_for(self.queryset)


class StaffBookForm(forms.Form):
    mrn = PatientField()  # cleans to the Patient
    service = ServiceChoiceField(queryset=Service.objects.none(), required=False)
    reason = forms.CharField(label="Reason for visit", max_length=300, required=False)

    def __init__(self, *args, department_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(
            is_active=True, department_id=department_id
        )
        self.fields["service"].show_fees()


OVERBOOK_KINDS = [
    (BookingKind.WALK_IN, "Walk-in (arrived now)", Perm.APPOINTMENT_WALK_IN),
    (BookingKind.URGENT, "Urgent", Perm.APPOINTMENT_OVERBOOK),
]


class OverbookForm(StaffBookForm):
    kind = forms.ChoiceField(choices=[])
    start = forms.DateTimeField(
        label="Time (leave empty for now)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, user, **kwargs):
        """Offers only the kinds the user's role may book (reception: walk-ins)."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (kind, label) for kind, label, perm in OVERBOOK_KINDS if user_has_perm(user, perm)
        ]


class PortalBookForm(forms.Form):
    """The portal's booking: what the visit is for (the service), then a summary to confirm."""

    service = ServiceChoiceField(
        label="What is the visit for?",
        queryset=Service.objects.none(),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        empty_label=None,
        error_messages={"required": "Choose what the visit is for."},
    )
    reason = forms.CharField(
        label="Anything the doctor should know (optional)", max_length=300, required=False
    )

    def __init__(self, *args, department_id, **kwargs):
        """A department that lists no services books a plain visit: no service to choose."""
        super().__init__(*args, **kwargs)
        offered = Service.objects.filter(is_active=True, department_id=department_id)
        if offered.exists():
            self.fields["service"].queryset = offered.order_by("duration_minutes", "name")
            self.fields["service"].show_fees()
        else:
            del self.fields["service"]

    def chosen_fee(self) -> str:
        """The fee of the chosen service, for the summary ("" when none is known)."""
        service = getattr(self, "cleaned_data", {}).get("service")
        field = self.fields.get("service")
        return field.fees.get(service.pk, "") if service and field else ""


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=300)


class PortalCancelForm(forms.Form):
    reason = forms.CharField(label="Reason (optional)", max_length=300, required=False)


class FindDoctorForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True),
        required=False,
        empty_label="Any",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    specialty = forms.CharField(
        max_length=120, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    q = forms.CharField(
        label="Name",
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class WorkingHoursForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    slot_minutes = forms.IntegerField(min_value=5, max_value=240, initial=15)
    break_start = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    break_end = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    location = forms.CharField(max_length=120, required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "Must be after the start.")
        b_start, b_end = data.get("break_start"), data.get("break_end")
        if bool(b_start) != bool(b_end):
            self.add_error("break_end", "Give both ends of the break, or neither.")
        elif b_start and b_end and b_end <= b_start:
            self.add_error("break_end", "Must be after the break's start.")
        return data


class ExceptionForm(forms.Form):
    kind = forms.ChoiceField(choices=ExceptionKind.choices)
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    slot_minutes = forms.IntegerField(min_value=5, max_value=240, initial=15)
    location = forms.CharField(max_length=120, required=False)
    reason = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "Must be after the start.")
        return data


class StaffWaitlistForm(forms.Form):
    mrn = PatientField()  # cleans to the Patient
    department = forms.ModelChoiceField(queryset=Department.objects.filter(is_active=True))
    practitioner = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.DOCTOR, is_active=True, schedule__isnull=False),
        required=False,
        empty_label="Anyone in the department",
    )
    note = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        doctor, department = data.get("practitioner"), data.get("department")
        if doctor and department and doctor.schedule.department_id != department.pk:
            self.add_error("practitioner", "This doctor does not work in that department.")
        return data
