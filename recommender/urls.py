from django.urls import path

from recommender import api, views

api_urlpatterns = [
    path("recommendations/", api.RecommendationsView.as_view(), name="recommendations"),
    path(
        "recommendations/because-you-listened/",
        api.ShelvesView.as_view(),
        name="recommendations-shelves",
    ),
    path("tracks/<int:pk>/also-played/", api.AlsoPlayedView.as_view(), name="track-also-played"),
    path("models/", api.ModelListView.as_view(), name="models"),
    path("models/active/", api.ActiveModelView.as_view(), name="models-active"),
    path("retrain/", api.RetrainView.as_view(), name="retrain"),
    path("radio/", api.RadioView.as_view(), name="radio"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("for-you/", views.for_you, name="for-you"),
    path("radio/", views.radio, name="radio"),
    path("tracks/<int:pk>/", views.track_detail, name="track"),
]
