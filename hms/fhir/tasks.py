"""Background work of the FHIR app: Bulk Data exports, run by the task worker."""

from django.tasks import task

from hms.core.access import as_system
from hms.fhir.services import export_job_run


@task
def run_export(job_id: str) -> int:
    """Write an export's NDJSON files; returns how many resources."""
    with as_system():
        job = export_job_run(job_id=job_id)
    return sum(item["count"] for item in job.output) if job else 0
