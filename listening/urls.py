from rest_framework.routers import SimpleRouter

from listening.api import FeedbackViewSet, ListenViewSet

router = SimpleRouter()
router.register("listens", ListenViewSet, basename="listen")
router.register("feedback", FeedbackViewSet, basename="feedback")

api_urlpatterns = router.urls
