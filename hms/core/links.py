"""URLs reversed once per process: a page's menu and its rows' buttons ask for the same few
dozen links on every request, and each `reverse` walks the URL patterns again (30-100 us).

A link depends only on the view name, its arguments, the app namespace, the URLconf and the
script prefix; all are part of the key. Only plain arguments (text, numbers, UUIDs) are
remembered: a model instance is reversed afresh, since its text may change.
"""

from uuid import UUID

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

_PLAIN = (str, int, UUID)
LIMIT = 20_000  # links kept per process; all are forgotten at once when full (a few MB)
_links: dict[tuple, str] = {}


def link_scope(request=None) -> tuple[str, str]:
    """What a link depends on besides its view and arguments: the current request's URLconf and
    script prefix, each read from a thread-local; with the request, once per request."""
    scope = getattr(request, "_hms_link_scope", None)
    if scope is None:
        scope = get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
        if request is not None:
            request._hms_link_scope = scope
    return scope


def link(
    view_name: str,
    args=(),
    kwargs=None,
    current_app: str | None = None,
    scope: tuple[str, str] | None = None,
) -> str:
    kwargs = kwargs or {}
    values = (*args, *kwargs.values())
    if not all(type(v) in _PLAIN or isinstance(v, _PLAIN) for v in values):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    key = (
        view_name,
        tuple(args),
        tuple(sorted(kwargs.items())),
        current_app,
        *(scope or link_scope()),
    )
    url = _links.get(key)
    if url is None:
        url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        if len(_links) >= LIMIT:
            _links.clear()
        _links[key] = url
    return url
