from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from listening import listenbrainz, views
from listening.api import FeedbackViewSet, ListenViewSet

router = SimpleRouter()
router.register("listens", ListenViewSet, basename="listen")
router.register("feedback", FeedbackViewSet, basename="feedback")

api_urlpatterns = router.urls

urlpatterns = [
    path("history/", views.history, name="history"),
    path("history/action/", views.history_action, name="history-action"),
    path("import/", views.import_page, name="import"),
    path("import/<int:batch_id>/", views.import_detail, name="import-detail"),
]

# ListenBrainz-compatible, at the paths scrobblers expect (docs/listening.md)
listenbrainz_urlpatterns = [
    re_path(r"^1/submit-listens/?$", listenbrainz.submit_listens, name="lb-submit-listens"),
    re_path(r"^1/validate-token/?$", listenbrainz.validate_token, name="lb-validate-token"),
]
