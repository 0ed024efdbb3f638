"""The main menu: each entry names the permission that shows it, so each role sees its own.
Apps own their entries: each registers them with `register_menu_item` in its AppConfig.ready().

The dashboard shows the same entries as "Go to" cards, each with a line saying what is there
and a live count. Counts come from the apps that own the data (core imports none of them):
each registers one with `register_count` in its AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.core.cache import cache

from hms.core.permissions import Perm, role_has_perm


class Section(StrEnum):
    """Where an entry goes when a role has too many to show in one row (see `navbar_for`)."""

    PATIENTS = "Patients"
    APPOINTMENTS = "Appointments"
    BACK_OFFICE = "Billing and stores"
    PATIENT_VOICE = "Feedback"
    ADMINISTRATION = "Administration"


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    perm: Perm
    description: str = ""
    order: int = 0  # place in the menu, lowest first; apps keep gaps for later entries
    section: Section | None = None


@dataclass(frozen=True)
class MenuGroup:
    """Entries of one section shown as a drop-down in the navigation bar."""

    label: str
    items: tuple[MenuItem, ...]


# Filled by each app's AppConfig.ready() (and core's own entry below), kept sorted by `order`.
MENU: list[MenuItem] = []


# A role's menu depends on the role alone: worked out once per process (the layout and the
# dashboard's cards ask on every page), and again when the menu list itself is replaced.
_menu_of_role: dict[str, tuple[list[MenuItem], list[MenuItem]]] = {}
_navbar_of_role: dict[str, tuple[list[MenuItem], list[MenuItem | MenuGroup]]] = {}


def register_menu_item(item: MenuItem) -> None:
    if any(known.url_name == item.url_name for known in MENU):
        raise ValueError(f"{item.url_name} already has a menu entry")
    MENU.append(item)
    MENU.sort(key=lambda known: known.order)
    _menu_of_role.clear()


register_menu_item(
    MenuItem("Audit trail", "core:audit-list", Perm.AUDIT_VIEW,
             "Who read or changed what, and when.", order=140, section=Section.ADMINISTRATION)
)  # fmt: skip


def menu_for(user) -> list[MenuItem]:
    if not (user is not None and user.is_authenticated and user.is_active):
        return []
    source, menu = _menu_of_role.get(user.role, (None, []))
    if source is not MENU:
        menu = [item for item in MENU if role_has_perm(user.role, item.perm)]
        _menu_of_role[user.role] = (MENU, menu)
    return menu


# A role with more entries than this (an administrator's 13) sees each section's entries in one
# drop-down, so that the bar stays one row on a laptop; the others keep one click per entry.
NAVBAR_FLAT_UP_TO = 8


def navbar_for(user) -> list[MenuItem | MenuGroup]:
    """The navigation bar: the role's menu, grouped by section when it is long. A section with
    one entry for the role stays a plain link."""
    items = menu_for(user)
    source, entries = _navbar_of_role.get(user.role, (None, []))
    if source is items:
        return entries
    entries = list(items)
    if len(items) > NAVBAR_FLAT_UP_TO:
        entries = []
        for item in items:
            members = tuple(i for i in items if item.section and i.section == item.section)
            if len(members) < 2:
                entries.append(item)
            elif members[0] is item:
                entries.append(MenuGroup(str(item.section), members))
    _navbar_of_role[user.role] = (items, entries)
    return entries


# url_name -> count(user=...) -> a short phrase ("12 today"), one query at most
_counts: dict[str, Callable[..., str]] = {}


def register_count(url_name: str, count: Callable[..., str]) -> None:
    _counts[url_name] = count


CARD_COUNTS_SECONDS = 30


def cards_for(user) -> list[tuple[MenuItem, str]]:
    """The dashboard's "Go to" cards: each menu entry with its count (or ""). The counts are a
    glance, not a worklist: kept for CARD_COUNTS_SECONDS per user, so a dashboard reload does
    not re-count every table."""
    items = menu_for(user)
    key = f"hms:dashboard-cards:{user.pk}"
    counts = cache.get(key)
    if counts is None:
        counts = {
            i.url_name: _counts[i.url_name](user=user) for i in items if i.url_name in _counts
        }
        cache.set(key, counts, CARD_COUNTS_SECONDS)
    return [(item, counts.get(item.url_name, "")) for item in items]
