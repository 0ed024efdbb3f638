from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from hms.accounts.models import User
from hms.accounts.throttle import SIGN_IN_REFUSED, sign_in_throttled
from hms.core.models import Department
from hms.core.permissions import STAFF_ROLES, Role
from hms.core.phones import PhoneFormField


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        max_length=254,  # as the user model's field; the lockout table stores at most 255
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email or password is not right. If you registered recently, "
        "confirm your email first.",
    }

    def clean(self):
        # Before the password is checked: a throttled attempt does not count as a failure.
        if self.request is not None and sign_in_throttled(self.request):
            raise forms.ValidationError(SIGN_IN_REFUSED, code="rate_limited")
        return super().clean()


class NewPasswordForm(forms.Form):
    password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )
    password2 = forms.CharField(
        label="Repeat the new password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user: User | None = None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password1"):
            try:
                password_validation.validate_password(data["password1"], self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class PasswordChangeForm(NewPasswordForm):
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "password1", "password2"]

    def clean_current_password(self):
        value = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("Your current password is not right.")
        return value


class PatientRegistrationForm(NewPasswordForm):
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    birth_date = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = PhoneFormField(required=False)
    field_order = [
        "given_name", "family_name", "birth_date", "email", "phone", "password1", "password2",
    ]  # fmt: skip

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if value.year < 1900:
            raise forms.ValidationError("Enter a date of birth after 1900.")
        return value

    def clean(self):
        data = self.cleaned_data
        self.user = User(
            email=data.get("email", ""),
            given_name=data.get("given_name", ""),
            family_name=data.get("family_name", ""),
        )
        return super().clean()


class TotpCodeForm(forms.Form):
    code = forms.RegexField(
        label="6-digit code",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the 6 digits shown by your authenticator app."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


STAFF_ROLE_CHOICES = [(r.value, r.label) for r in Role if r in STAFF_ROLES]


class StaffForm(forms.Form):
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    email = forms.EmailField(max_length=254)
    phone = PhoneFormField(required=False)
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True), required=False
    )
    job_title = forms.CharField(max_length=120, required=False)
    specialty = forms.CharField(max_length=120, required=False)
    licence_number = forms.CharField(
        max_length=60, required=False, help_text="Professional registration, for practitioners."
    )
