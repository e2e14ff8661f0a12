from rest_framework.routers import SimpleRouter

from catalog.api import ArtistViewSet, TrackViewSet

router = SimpleRouter()
router.register("tracks", TrackViewSet, basename="track")
router.register("artists", ArtistViewSet, basename="artist")

api_urlpatterns = router.urls
