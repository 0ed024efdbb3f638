"""Domain events: a lower app announces what happened; higher apps subscribe.

Handlers run in the emitter's transaction (so a handler's writes commit or roll back with the
change that caused them). A handler with side effects outside the database (email, webhooks)
must defer them with `transaction.on_commit`. Handlers run `as_system()`: they carry out what
the emitting service, which checked its actor, started (a check-in opens the encounter even
though the receptionist may not write the clinical record).
"""

from collections import defaultdict
from collections.abc import Callable

from hms.core.access import as_system

_handlers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(event: str):
    """Decorator: call the function with the event's keyword payload each time it is emitted."""

    def register(handler: Callable[..., None]):
        if handler not in _handlers[event]:
            _handlers[event].append(handler)
        return handler

    return register


def emit(event: str, **payload) -> None:
    with as_system():
        for handler in list(_handlers[event]):
            handler(**payload)
