from django import forms

from hms.accounts.models import User
from hms.core.models import Department
from hms.feedback.models import ContactStatus, ContactTopic
from hms.feedback.services import MAX_COMMENT, MAX_MESSAGE


class ContactForm(forms.Form):
    name = forms.CharField(max_length=120, label="Your name")
    email = forms.EmailField(
        required=False, label="Email", help_text="An email address or a phone number, or both."
    )
    phone = forms.CharField(max_length=40, required=False, label="Phone")
    topic = forms.ChoiceField(choices=[("", "Choose…"), *ContactTopic.choices])
    message = forms.CharField(
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Please leave out medical details: we will ask for them if we need them.",
    )
    # The spam trap: hidden from people (CSS and aria), filled in by robots.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone") and "email" not in self.errors:
            self.add_error("email", "Give an email address or a phone number so we can answer.")
        return data


RATINGS = [(n, str(n)) for n in range(1, 6)]
SCORES = [(n, str(n)) for n in range(0, 11)]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=RATINGS, coerce=int, widget=forms.RadioSelect,
        label="How was your visit? (1 poor – 5 excellent)",
    )  # fmt: skip
    nps = forms.TypedChoiceField(
        choices=SCORES, coerce=int, widget=forms.RadioSelect,
        label="How likely are you to recommend us to a friend? (0 not at all – 10 very likely)",
    )  # fmt: skip
    comment = forms.CharField(
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything you would like to tell us?",
    )


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Open"), ("all", "All"), *ContactStatus.choices]
    )
    mine = forms.BooleanField(required=False, label="Assigned to me")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ContactStatus.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(pk__in=[u.pk for u in staff])


class NoteForm(forms.Form):
    body = forms.CharField(
        max_length=MAX_MESSAGE, widget=forms.Textarea(attrs={"rows": 4}), label="Text"
    )
    reply = forms.BooleanField(
        required=False, label="Email this to the sender as our reply (otherwise an internal note)"
    )


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.ModelChoiceField(queryset=None, required=False, empty_label="All")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(is_active=True)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end date is before the start date.")
        return data
