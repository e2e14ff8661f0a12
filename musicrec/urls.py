from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import TokenView
from accounts.urls import urlpatterns as account_pages
from catalog.urls import api_urlpatterns as catalog_api
from catalog.urls import urlpatterns as catalog_pages
from core.health import health
from listening.urls import api_urlpatterns as listening_api
from listening.urls import listenbrainz_urlpatterns as listenbrainz_api
from listening.urls import urlpatterns as listening_pages
from recommender.urls import api_urlpatterns as recommender_api
from recommender.urls import urlpatterns as recommender_pages

api_patterns = [
    path("health/", health, name="health"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *catalog_api,
    *listening_api,
    *recommender_api,
]

urlpatterns = [
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static("favicon.svg"))),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
    *listenbrainz_api,
    *recommender_pages,
    *catalog_pages,
    *listening_pages,
    *account_pages,
]

handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
