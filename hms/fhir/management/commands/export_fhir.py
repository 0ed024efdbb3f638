"""manage.py export_fhir DIR : every record as FHIR R4 NDJSON, one file per resource type."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hms.core.access import as_system
from hms.fhir.exporter import export_ndjson
from hms.fhir.services import EXPORT_TYPES


class Command(BaseCommand):
    help = "Export every record as FHIR R4 NDJSON files (<Type>.ndjson) into DIR."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--type",
            action="append",
            dest="types",
            choices=EXPORT_TYPES,
            help="Only this resource type (repeat for more); default: all",
        )

    def handle(self, *args, directory, types, **options):
        target = Path(directory)
        if target.exists() and not target.is_dir():
            raise CommandError(f"{target} is not a folder")

        def progress(kind: str, n: int) -> None:
            self.stdout.write(f"  {kind}: {n}")

        self.stdout.write(f"Exporting to {target}:")
        with as_system():
            counts = export_ndjson(target, types=types or EXPORT_TYPES, progress=progress)
        self.stdout.write(f"Exported {sum(counts.values())} resources.")
