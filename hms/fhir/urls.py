"""/fhir/R4/: metadata, then read and search for every type (create and update for Patient and
Appointment), `Patient/<id>/$everything` and the Bulk Data export."""

from django.urls import path

from hms.core.permissions import Perm
from hms.fhir import views
from hms.fhir.resources import TYPES

app_name = "fhir"

# Writes: who may try (the SMART scope and the service then decide). A patient books and moves
# their own appointments, so Appointment writes are open to every signed-in user.
WRITES = {"Patient": Perm.PATIENT_REGISTER, "Appointment": "signed_in"}
# Reads of types only clinicians read at all; the others are shared by staff and patients and
# declare signed_in (the scope check answers 403 to a role without the type).
READS = {"Encounter": Perm.CLINICAL_VIEW, "Condition": Perm.CLINICAL_VIEW}


def _view(base, name: str, method: str):
    perms = {"get": READS.get(name, "signed_in")}
    if name in WRITES:
        perms[method] = WRITES[name]
    cls = type(f"{name}{base.__name__}", (base,), {"resource_type": name, "required_perms": perms})
    return cls.as_view()


urlpatterns = [
    path("metadata", views.CapabilityView.as_view(), name="metadata"),
    path("$export", views.ExportKickOffView.as_view(), name="export"),
    path("Patient/$export", views.PatientExportKickOffView.as_view(), name="patient-export"),
    path("$export-status/<uuid:job_id>", views.ExportStatusView.as_view(), name="export-status"),
    path(
        "$export-file/<uuid:job_id>/<str:resource_type>.ndjson",
        views.ExportFileView.as_view(),
        name="export-file",
    ),
    path(
        "Patient/<str:id>/$everything",
        views.PatientEverythingView.as_view(),
        name="patient-everything",
    ),
]
for _name in TYPES:
    writable = _name in WRITES
    urlpatterns += [
        path(
            _name,
            _view(views.WritableTypeView if writable else views.TypeView, _name, "post"),
            name=f"{_name}-search",
        ),
        path(
            f"{_name}/<str:id>",
            _view(views.WritableInstanceView if writable else views.InstanceView, _name, "put"),
            name=f"{_name}-read",
        ),
    ]
