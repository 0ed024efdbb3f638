"""Demo data for every module: each app's `demo.py` has a `seed(ctx)` run in app order, and may
have a `refresh(ctx)` for data relative to today (today's clinic), run by every seeding,
`--once` included, and idempotent within a day."""

import importlib
import random

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from faker import Faker

from hms.core.access import as_system
from hms.core.demo import DemoContext, print_demo_accounts
from hms.core.models import Hospital


class Command(BaseCommand):
    help = "Create demo data (idempotent): hospital, departments, one account per role, patients."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=40, help="how many demo patients")
        parser.add_argument(
            "--seed", type=int, default=2026, help="random seed, for repeatable data"
        )
        parser.add_argument(
            "--once", action="store_true", help="do nothing if demo data was seeded before"
        )

    def handle(self, *args, patients: int, seed: int, once: bool, **options):
        if patients < 0:
            raise CommandError("--patients must be 0 or more")
        Faker.seed(seed)
        ctx = DemoContext(
            faker=Faker(["en_GB"]), rng=random.Random(seed), patients=patients, out=self.stdout
        )
        if once and Hospital.objects.exists():
            self.stdout.write("Demo data was seeded before; leaving it as it is.")
            self._run_each(ctx, "refresh")
            print_demo_accounts(self.stdout)
            return
        self._run_each(ctx, "seed")
        self._run_each(ctx, "refresh")
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        print_demo_accounts(self.stdout)

    def _run_each(self, ctx: DemoContext, step: str) -> None:
        """Each app's demo.py `step` function (if it has one), in app order."""
        for config in apps.get_app_configs():
            if not config.name.startswith("hms."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            if hasattr(module, step):
                with transaction.atomic(), as_system():
                    getattr(module, step)(ctx)
