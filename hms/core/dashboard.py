"""Dashboard widgets: each app adds what its roles need to see first (today's appointments,
the lab backlog...) without core importing it. Registered in the app's AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    return [
        render_to_string(w.template, {"widget": w, **w.load(user=request.user)}, request=request)
        for w in widgets_for(request.user)
    ]
