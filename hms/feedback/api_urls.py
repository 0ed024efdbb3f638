from rest_framework.routers import SimpleRouter

from hms.feedback import api

router = SimpleRouter()
router.register("contact", api.ContactViewSet, basename="contact")
router.register("feedback", api.FeedbackViewSet, basename="feedback")

urlpatterns = router.urls
