"""What a service costs, shown where patients choose one (the portal's booking steps and the
staff booking form). Billing owns the prices and scheduling may not import it, so billing
registers a provider here (in its AppConfig.ready()); without one, no fee is shown."""

from collections.abc import Callable, Iterable

# services -> {service id: "85.00 GBP"}, one query for all of them
_provider: Callable[[list], dict[int, str]] | None = None


def register_fee_provider(provider: Callable[[list], dict[int, str]]) -> None:
    global _provider
    _provider = provider


def fees_for(services: Iterable) -> dict[int, str]:
    services = list(services)
    if _provider is None or not services:
        return {}
    return _provider(services)


def fee_label(service, fees: dict[int, str]) -> str:
    """The service's label with its fee when there is one: "Follow-up (15 min) · 45.00 GBP"."""
    fee = fees.get(service.pk)
    return f"{service} · {fee}" if fee else str(service)
