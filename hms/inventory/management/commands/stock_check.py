"""Recompute every on-hand figure from the ledger and report any difference (exit 1 if any)."""

from django.core.management.base import BaseCommand, CommandError

from hms.inventory.models import Location, Lot
from hms.inventory.selectors import ledger_differences


class Command(BaseCommand):
    help = "Check that on-hand per item, location and lot equals the sum of its movements."

    def handle(self, *args, **options):
        differences = ledger_differences()
        if not differences:
            self.stdout.write(self.style.SUCCESS("Stock agrees with the ledger."))
            return
        lots = Lot.objects.select_related("item").in_bulk({d["lot_id"] for d in differences})
        places = Location.objects.in_bulk({d["location_id"] for d in differences})
        for d in differences:
            lot, place = lots.get(d["lot_id"]), places.get(d["location_id"])
            self.stdout.write(
                f"{lot.item.code if lot else '?'} lot {lot.batch_number if lot else d['lot_id']}"
                f" at {place.code if place else d['location_id']}: on hand {d['on_hand']}, "
                f"ledger {d['ledger']}"
            )
        raise CommandError(f"{len(differences)} stock figure(s) differ from the ledger.")
