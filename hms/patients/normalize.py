"""Search keys: what is compared when people type names and phone numbers in many ways."""

import re
import unicodedata

import phonenumbers
from django.conf import settings

_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, accents removed, punctuation to spaces: 'Zoë  O'Brien' -> 'zoe o brien'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", ascii_text)).strip()


def digits(text: str) -> str:
    return "".join(c for c in text or "" if c.isdigit())


PHONE_KEY_MIN = 4  # fewer digits than this would match a crowd


def phone_tokens(e164: str) -> set[str]:
    """The keys a stored number is found by (prefix match): all its digits with the country
    code, and every ending of the national number from 4 digits, so "+447700900555" is found
    by "+44 7700 900555", "07700 900555", "7700900" and "900555"."""
    if not e164:
        return set()
    national = phonenumbers.national_significant_number(phonenumbers.parse(e164))
    endings = {national[i:] for i in range(len(national) - PHONE_KEY_MIN + 1)}
    return {digits(e164), *endings}


def phone_query_keys(text: str) -> list[str]:
    """The digits a typed (part of a) number is looked up by: as typed, without the region's
    trunk prefix ("07700 9" -> "77009"), and as the number it reads as: its national number
    when typed without a country code ("07700 900555" -> "7700900555"), else all its digits
    ("0044 7700 900555" -> "447700900555")."""
    keys = [digits(text)]
    region = phonenumbers.PhoneMetadata.metadata_for_region(settings.PHONE_DEFAULT_REGION)
    trunk = region.national_prefix if region else None
    if trunk and keys[0].startswith(trunk):
        keys.append(keys[0].removeprefix(trunk))
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        pass
    else:
        national = phonenumbers.national_significant_number(number)
        local = number.country_code_source == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
        keys.append(national if local else f"{number.country_code}{national}")
    return [key for key in dict.fromkeys(keys) if len(key) >= PHONE_KEY_MIN]
