from rest_framework.routers import SimpleRouter

from hms.patients.api import PatientViewSet

router = SimpleRouter()
router.register("patients", PatientViewSet, basename="api-patients")

urlpatterns = router.urls
