"""Search keys: what is compared when people type names and phone numbers in many ways."""

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, accents removed, punctuation to spaces: 'Zoë  O'Brien' -> 'zoe o brien'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", ascii_text)).strip()


def digits(text: str) -> str:
    return "".join(c for c in text or "" if c.isdigit())
