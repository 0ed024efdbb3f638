"""Answers that do not change during one request, computed once per request.

A page may ask the same question in several places (the view, a selector, a dashboard widget:
"which patient record is this portal user's?"); the first answer is kept on the request and
forgotten with it, so nothing stale outlives the request. Outside a request (a task, a shell,
a test calling a selector) every call computes afresh.
"""

from collections.abc import Callable, Hashable

from hms.core.audit import current_request


def once_per_request[T](key: Hashable, compute: Callable[[], T]) -> T:
    request = current_request.get()
    if request is None:
        return compute()
    memo = request.__dict__.setdefault("_hms_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]
