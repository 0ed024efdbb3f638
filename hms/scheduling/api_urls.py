from django.urls import path
from rest_framework.routers import SimpleRouter

from hms.scheduling import api

router = SimpleRouter()
router.register("departments", api.DepartmentViewSet, basename="department")
router.register("practitioners", api.PractitionerViewSet, basename="practitioner")
router.register("schedules", api.ScheduleViewSet, basename="schedule")
router.register("appointments", api.AppointmentViewSet, basename="appointment")

urlpatterns = [
    path("slots/", api.SlotListView.as_view(), name="slot-list"),
    *router.urls,
]
