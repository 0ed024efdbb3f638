from django.urls import path
from rest_framework.routers import SimpleRouter

from hms.clinical import api

router = SimpleRouter()
router.register("encounters", api.EncounterViewSet, basename="api-encounters")
router.register("vitals", api.VitalsViewSet, basename="api-vitals")
router.register("diagnoses", api.DiagnosisViewSet, basename="api-diagnoses")
router.register("allergies", api.AllergyViewSet, basename="api-allergies")
router.register("prescriptions", api.PrescriptionViewSet, basename="api-prescriptions")
router.register("notes", api.NoteViewSet, basename="api-notes")
router.register("lab-orders", api.LabOrderViewSet, basename="api-lab-orders")
router.register("lab-results", api.LabResultViewSet, basename="api-lab-results")

urlpatterns = [
    path("icd10/", api.Icd10SearchView.as_view(), name="api-icd10-search"),
    *router.urls,
]
