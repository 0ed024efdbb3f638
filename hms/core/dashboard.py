"""Dashboard widgets: each app adds what its roles need to see first (today's appointments,
the lab backlog...) without core importing it. Registered in the app's AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.context_processors import csrf
from django.template.loader import render_to_string

from hms.core.permissions import Perm, user_has_perm


@dataclass(frozen=True)
class DashboardWidget:
    key: str
    title: str
    order: int
    perm: Perm  # who sees the widget
    template: str  # rendered with {"widget": ..., **load(user=...)}
    load: Callable[..., dict[str, Any]]  # load(user=...) in a fixed number of queries


_widgets: dict[str, DashboardWidget] = {}


def register_widget(widget: DashboardWidget) -> None:
    _widgets[widget.key] = widget


def widgets_for(user) -> list[DashboardWidget]:
    return sorted(
        (w for w in _widgets.values() if user_has_perm(user, w.perm)), key=lambda w: w.order
    )


def render_widgets(request) -> list[str]:
    """Each widget the user may see, rendered with what it loaded, the user, the request and
    the CSRF token (not the whole page's context: the page has run its context processors
    once already)."""
    page = {"user": request.user, "request": request, **csrf(request)}
    return [
        render_to_string(w.template, {**page, "widget": w, **w.load(user=request.user)})
        for w in widgets_for(request.user)
    ]
