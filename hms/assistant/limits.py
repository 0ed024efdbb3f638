"""How often one address may talk to the assistant (the widget and the API share it)."""

from hms.core.net import client_ip
from hms.core.ratelimit import rate_limit_exceeded

CHAT_LIMIT, CHAT_WINDOW = 60, 300  # messages per network address per five minutes
TOO_MANY = "You are sending messages very quickly. Please wait a moment."


def chat_allowed(request) -> bool:
    return not rate_limit_exceeded(
        scope="assistant",
        key=f"ip:{client_ip(request) or 'unknown'}",
        limit=CHAT_LIMIT,
        window_seconds=CHAT_WINDOW,
    )
