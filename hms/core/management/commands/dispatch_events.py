import time

from django.core.management.base import BaseCommand

from hms.core.outbox import outbox_dispatch


class Command(BaseCommand):
    help = (
        "Deliver the stored domain events to their asynchronous subscribers. The task worker "
        "does this shortly after commits that stored events and every minute; --loop keeps "
        "polling (a dispatcher of its own, beside or instead of the worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep polling.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")

    def handle(self, *args, **options):
        while True:
            delivered = outbox_dispatch()
            if not options["loop"]:
                self.stdout.write(self.style.SUCCESS(f"Delivered {delivered} events."))
                return
            time.sleep(options["interval"])
