"""What the FHIR app keeps of its own: no second copy of any record, only

- `ImportedResource`: which FHIR resource (type and source id) became which of our rows, for
  imported resources whose table has no `source_id` of its own (vital signs: several FHIR
  Observations become one set of vitals), so a second import adds nothing;
- `ExportJob`: a Bulk Data `$export` request, run by the task worker, and the NDJSON files it
  wrote.
"""

import uuid

from django.conf import settings
from django.db import models

from hms.core.models import TimeStampedModel


class ImportedResource(models.Model):
    resource_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    target = models.CharField(max_length=60, help_text='Our table, e.g. "clinical.vitals".')
    target_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "source_id"], name="fhir_imported_resource_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.source_id} -> {self.target} {self.target_id}"


class ExportStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ExportJob(TimeStampedModel):
    """One Bulk Data export: kicked off by an administrator, run by the task worker."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=16, default="system", help_text="system or patient")
    types = models.JSONField(default=list, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.ACCEPTED
    )
    request_url = models.CharField(max_length=500)
    output = models.JSONField(default=list, blank=True, help_text="[{type, file, count}]")
    error = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in ExportStatus]),
                name="fhir_export_status_known",
            )
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"
