"""The stock ledger: every change is a movement, on-hand equals the ledger, never negative,
first expiry first out, expired lots never picked."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from hms.core.errors import DomainError
from hms.core.permissions import Role
from hms.inventory import services
from hms.inventory.models import AppendOnly, Movement, MovementKind, Stock
from hms.inventory.selectors import ledger_differences
from hms.inventory.tests.factories import ItemFactory, LocationFactory, receive
from hms.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pharmacist(make_user):
    return make_user(Role.PHARMACIST)


def on_hand(item, location) -> int:
    return services.on_hand_of(item=item, location=location)


def test_a_receipt_is_a_movement_and_on_hand_equals_the_ledger(pharmacist):
    item, pharmacy = ItemFactory(), LocationFactory()
    move = services.stock_receive(
        actor=pharmacist, item=item, location=pharmacy, batch_number="A1",
        expiry_date=timezone.localdate() + timedelta(days=400), quantity=30,
        unit_cost=Decimal("0.25"),
    )  # fmt: skip
    assert move.kind == MovementKind.RECEIPT and move.quantity == 30 and move.actor == pharmacist
    assert on_hand(item, pharmacy) == 30
    assert ledger_differences() == []


def test_the_database_refuses_negative_on_hand():
    item, pharmacy = ItemFactory(), LocationFactory()
    receive(item, pharmacy, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(item=item).update(on_hand=-1)


def test_movements_are_append_only():
    item, pharmacy = ItemFactory(), LocationFactory()
    receive(item, pharmacy, 2)
    move = Movement.objects.get()
    with pytest.raises(AppendOnly):
        move.save()
    with pytest.raises(AppendOnly):
        move.delete()


def test_dispensing_picks_the_lot_that_expires_first_and_spans_lots(pharmacist):
    item, pharmacy = ItemFactory(), LocationFactory()
    late = receive(item, pharmacy, 10, batch="LATE", days=300)
    early = receive(item, pharmacy, 3, batch="EARLY", days=30)
    dispense = services.stock_dispense(
        actor=pharmacist, item=item, location=pharmacy, quantity=5, patient=PatientFactory()
    )
    taken = {m.lot.batch_number: -m.quantity for m in dispense.movements.all()}
    assert taken == {"EARLY": 3, "LATE": 2}
    assert Stock.objects.get(lot=early).on_hand == 0
    assert Stock.objects.get(lot=late).on_hand == 8
    assert ledger_differences() == []


def test_an_expired_lot_is_never_picked(pharmacist):
    item, pharmacy = ItemFactory(), LocationFactory()
    expired = receive(item, pharmacy, 10, batch="OLD", days=5)
    expired.expiry_date = timezone.localdate() - timedelta(days=1)
    expired.save()
    with pytest.raises(services.InsufficientStock) as refused:
        services.stock_dispense(
            actor=pharmacist, item=item, location=pharmacy, quantity=1, patient=PatientFactory()
        )
    assert refused.value.code == "insufficient_stock"
    assert on_hand(item, pharmacy) == 10


def test_receiving_an_expired_lot_is_refused(pharmacist):
    item, pharmacy = ItemFactory(), LocationFactory()
    with pytest.raises(DomainError) as refused:
        services.stock_receive(
            actor=pharmacist, item=item, location=pharmacy, batch_number="X",
            expiry_date=timezone.localdate() - timedelta(days=1), quantity=5,
        )  # fmt: skip
    assert refused.value.code == "lot_expired"
    assert not Movement.objects.exists()


def test_a_short_dispense_takes_nothing_from_any_lot(pharmacist):
    item, pharmacy = ItemFactory(), LocationFactory()
    receive(item, pharmacy, 2, batch="A", days=30)
    receive(item, pharmacy, 2, batch="B", days=60)
    with pytest.raises(services.InsufficientStock):
        services.stock_dispense(
            actor=pharmacist, item=item, location=pharmacy, quantity=5, patient=PatientFactory()
        )
    assert on_hand(item, pharmacy) == 4
    assert Movement.objects.filter(kind=MovementKind.DISPENSE).count() == 0


def test_an_adjustment_needs_a_reason_and_cannot_go_below_zero(pharmacist):
    item, pharmacy = ItemFactory(), LocationFactory()
    lot = receive(item, pharmacy, 3)
    with pytest.raises(DomainError):
        services.stock_adjust(
            actor=pharmacist, lot=lot, location=pharmacy, quantity=-1, reason="lost"
        )
    with pytest.raises(services.InsufficientStock):
        services.stock_adjust(
            actor=pharmacist, lot=lot, location=pharmacy, quantity=-4, reason="count"
        )
    move = services.stock_adjust(
        actor=pharmacist, lot=lot, location=pharmacy, quantity=-2, reason="damage"
    )
    assert move.reason == "damage" and on_hand(item, pharmacy) == 1


def test_a_transfer_and_an_issue_to_a_ward_move_stock_in_pairs(pharmacist):
    item, store, pharmacy = ItemFactory(), LocationFactory(kind="store"), LocationFactory()
    ward = LocationFactory(kind="ward")
    receive(item, store, 10)
    services.stock_transfer(
        actor=pharmacist, item=item, source=store, destination=pharmacy, quantity=6
    )
    services.stock_issue(actor=pharmacist, item=item, source=pharmacy, ward=ward, quantity=2)
    assert (on_hand(item, store), on_hand(item, pharmacy), on_hand(item, ward)) == (4, 4, 2)
    with pytest.raises(DomainError):
        services.stock_issue(actor=pharmacist, item=item, source=store, ward=pharmacy, quantity=1)
    assert ledger_differences() == []


def test_a_return_puts_stock_back(pharmacist):
    item, pharmacy = ItemFactory(), LocationFactory()
    lot = receive(item, pharmacy, 2)
    services.stock_return(actor=pharmacist, lot=lot, location=pharmacy, quantity=1)
    assert on_hand(item, pharmacy) == 3


def test_stock_check_passes_when_the_ledger_agrees_and_fails_when_it_does_not():
    item, pharmacy = ItemFactory(), LocationFactory()
    receive(item, pharmacy, 5, batch="LOT9")
    out = StringIO()
    call_command("stock_check", stdout=out)
    assert "agrees" in out.getvalue()
    Stock.objects.filter(item=item).update(on_hand=7)  # a change that bypassed the ledger
    out = StringIO()
    with pytest.raises(CommandError, match="1 stock figure"):
        call_command("stock_check", stdout=out)
    assert "LOT9" in out.getvalue() and "on hand 7, ledger 5" in out.getvalue()
