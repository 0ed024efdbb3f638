"""How often one sender may write through Contact Us (the page and the API share it)."""

from hms.core.net import client_ip
from hms.core.ratelimit import rate_limit_exceeded

CONTACT_LIMIT, CONTACT_WINDOW = 5, 3600  # messages per network address and per email, per hour
TOO_MANY = (
    "You have sent us several messages in the last hour. Please wait a while, or call us if it "
    "is urgent."
)


def contact_allowed(request, email: str = "") -> bool:
    """Counts one message against the sender's network address and their email address."""
    keys = [f"ip:{client_ip(request) or 'unknown'}"]
    if email:
        keys.append(f"email:{email.strip().lower()}")
    over = [
        rate_limit_exceeded(
            scope="contact", key=key, limit=CONTACT_LIMIT, window_seconds=CONTACT_WINDOW
        )
        for key in keys
    ]
    return not any(over)
