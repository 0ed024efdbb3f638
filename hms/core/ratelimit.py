"""A soft rate limit: more than `limit` requests of one key in a window are refused until the
window ends (no lock to lift, nothing in the database). Counters live in the cache, shared by
every application server when REDIS_URL is set."""

import hashlib

from django.core.cache import cache


def rate_limit_exceeded(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one more request of `key` in `scope`; True when it is over the limit."""
    counter = f"ratelimit:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
    cache.add(counter, 0, timeout=window_seconds)
    try:
        count = cache.incr(counter)
    except ValueError:  # the window ended between add() and incr()
        cache.set(counter, 1, timeout=window_seconds)
        count = 1
    return count > limit
