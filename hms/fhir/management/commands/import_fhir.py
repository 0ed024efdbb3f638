"""manage.py import_fhir PATH... : load FHIR R4 NDJSON files, folders of them, or Bundles."""

from django.core.management.base import BaseCommand, CommandError

from hms.core.access import as_system
from hms.fhir.importer import FhirImporter


class Command(BaseCommand):
    help = (
        "Import FHIR R4 resources (NDJSON files or folders, e.g. a Synthea export, or "
        "transaction / collection Bundles): patients, encounters, conditions, allergies, "
        "medication requests, vital signs and laboratory results. Safe to run again: nothing "
        "is imported twice. Each patient is written in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="NDJSON or Bundle JSON files, or folders")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument(
            "--workers", type=int, default=None,
            help="processes validating resources (default: the CPUs, at most 4; 1: none)",
        )  # fmt: skip

    def handle(self, *args, paths, quiet, workers, **options):
        shown = {"at": -1}

        def progress(done: int, total: int) -> None:
            if quiet or not total:
                return
            if done == total or done * 50 // total != shown["at"] * 50 // total:
                shown["at"] = done
                width = 30
                filled = width * done // total
                bar = "#" * filled + "-" * (width - filled)
                self.stderr.write(f"\r[{bar}] {done}/{total} resources", ending="")
                if done == total:
                    self.stderr.write("")

        try:
            with as_system():
                summary = FhirImporter(progress=progress, workers=workers).run(paths)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        for line in summary.lines():
            self.stdout.write(line)
