from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog import views
from catalog.api import ArtistViewSet, TrackViewSet

router = SimpleRouter()
router.register("tracks", TrackViewSet, basename="track")
router.register("artists", ArtistViewSet, basename="artist")

api_urlpatterns = [
    path("tracks/<int:pk>/art/", views.track_art, name="track-art"),
    *router.urls,
]

urlpatterns = [
    path("artists/<int:pk>/", views.artist_detail, name="artist"),
    path("search/", views.search, name="search"),
]
