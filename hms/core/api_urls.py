from rest_framework.routers import SimpleRouter

from hms.core import api_notifications

router = SimpleRouter()
router.register("notifications", api_notifications.NotificationViewSet, basename="notification")

urlpatterns = router.urls
