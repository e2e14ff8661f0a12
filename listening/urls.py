from django.urls import path
from rest_framework.routers import SimpleRouter

from listening import views
from listening.api import FeedbackViewSet, ListenViewSet

router = SimpleRouter()
router.register("listens", ListenViewSet, basename="listen")
router.register("feedback", FeedbackViewSet, basename="feedback")

api_urlpatterns = router.urls

urlpatterns = [
    path("history/", views.history, name="history"),
    path("history/action/", views.history_action, name="history-action"),
]
