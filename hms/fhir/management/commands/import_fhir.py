"""manage.py import_fhir PATH... : load FHIR R4 NDJSON files (or folders of them)."""

from django.core.management.base import BaseCommand, CommandError

from hms.core.access import as_system
from hms.fhir.importer import FhirImporter


class Command(BaseCommand):
    help = (
        "Import FHIR R4 resources (NDJSON, e.g. a Synthea export): patients, encounters, "
        "conditions, allergies and medication requests. Safe to run again: nothing is imported "
        "twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="NDJSON files or folders")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, paths, quiet, **options):
        shown = {"at": -1}

        def progress(done: int, total: int) -> None:
            if quiet or not total:
                return
            if done == total or done // 50 != shown["at"] // 50:
                shown["at"] = done
                width = 30
                filled = width * done // total
                bar = "#" * filled + "-" * (width - filled)
                self.stderr.write(f"\r[{bar}] {done}/{total} resources", ending="")
                if done == total:
                    self.stderr.write("")

        try:
            with as_system():
                summary = FhirImporter(progress=progress).run(paths)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        for line in summary.lines():
            self.stdout.write(line)
