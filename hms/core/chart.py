"""The patient chart is assembled from sections that each app registers in its AppConfig.ready().

The patients app owns the chart page but must not import the apps above it (clinical,
scheduling, billing): they plug their part in here. A section loads its own data in a fixed
number of queries, whatever the size of the patient's history.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hms.core.permissions import Perm, user_has_perm


@dataclass(frozen=True)
class ChartSection:
    key: str
    title: str
    order: int
    perm: Perm  # who may see this section
    template: str  # rendered with {"section": ..., "patient": ..., **load(...)}
    load: Callable[..., dict[str, Any]]  # load(patient=..., user=...) -> template context
    # True: shown in the chart's banner (allergies, alerts) instead of the body. The template
    # is then rendered inside the banner, so keep it short (a line of badges).
    banner: bool = False


_sections: dict[str, ChartSection] = {}


def register_section(section: ChartSection) -> None:
    _sections[section.key] = section


def sections_for(user) -> list[ChartSection]:
    return sorted(
        (s for s in _sections.values() if user_has_perm(user, s.perm)), key=lambda s: s.order
    )
