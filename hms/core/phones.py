"""Phone numbers: read in any usual way, kept in E.164 ("+447700900555").

A number without a country code is read in the hospital's region (PHONE_DEFAULT_REGION), so
"07700 900555" and "+44 7700 900555" are one number. Numbers are checked for a possible
length, not against the allocated ranges: test and drama numbers (07700 900xxx) are kept.
"""

import phonenumbers
from django import forms
from django.conf import settings
from rest_framework import serializers

PHONE_INVALID = "Enter a phone number, e.g. 07700 900555 or +44 7700 900555."


def phone_parse(text: str) -> phonenumbers.PhoneNumber:
    """The number written in `text`; ValueError when it is not a possible phone number."""
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(PHONE_INVALID) from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(PHONE_INVALID)
    return number


def phone_normalise(text: str) -> str:
    """E.164 for a phone number, "" for a blank one; ValueError for anything else."""
    text = (text or "").strip()
    if not text:
        return ""
    return phonenumbers.format_number(phone_parse(text), phonenumbers.PhoneNumberFormat.E164)


class PhoneFormField(forms.CharField):
    """A form field whose cleaned value is E.164 (or "")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return phone_normalise(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_phone") from None


class PhoneSerializerField(serializers.CharField):
    """An API field whose validated value is E.164 (or "")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return phone_normalise(super().to_internal_value(data))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
