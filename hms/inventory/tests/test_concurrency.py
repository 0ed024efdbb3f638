"""Never negative, never lost: ten pharmacists dispensing the last five units at once."""

import threading

import pytest
from django.db import connections

from hms.core.errors import DomainError
from hms.core.permissions import Role
from hms.inventory import services
from hms.inventory.models import Dispense, Movement, MovementKind, Stock
from hms.inventory.selectors import ledger_differences
from hms.inventory.tests.factories import ItemFactory, LocationFactory, receive
from hms.patients.tests.factories import PatientFactory

CLIENTS, ON_HAND = 10, 5


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_dispenses_of_the_last_five_units_give_exactly_five(make_user):
    pharmacist = make_user(Role.PHARMACIST)
    item, pharmacy, patient = ItemFactory(), LocationFactory(), PatientFactory()
    # Two lots, so that the picking moves from one lot to the next under contention.
    receive(item, pharmacy, 2, batch="FIRST", days=30)
    receive(item, pharmacy, 3, batch="SECOND", days=90)
    barrier = threading.Barrier(CLIENTS)
    outcomes: list[str] = []

    def dispense_one() -> None:
        try:
            barrier.wait(timeout=30)
            services.stock_dispense(
                actor=pharmacist, item=item, location=pharmacy, quantity=1, patient=patient
            )
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # a deadlock, "database is locked"...: the test fails
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispense_one) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["insufficient_stock"] * (CLIENTS - ON_HAND) + ["ok"] * ON_HAND
    assert sum(Stock.objects.values_list("on_hand", flat=True)) == 0
    assert Dispense.objects.count() == ON_HAND
    assert Movement.objects.filter(kind=MovementKind.DISPENSE).count() == ON_HAND
    assert ledger_differences() == []
