from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.api.ingest_views import pagerduty_enqueue

from . import health

admin.site.site_header = "TreeBeard IR administration"
admin.site.site_title = "TreeBeard IR"
admin.site.index_title = "Policies, people and incidents"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("incidents.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("v2/enqueue", pagerduty_enqueue, name="pagerduty-enqueue"),
    path("", include("incidents.urls")),
]

# Under /api/ and /v2/ every error is JSON, even for URLs no route matches.
handler404 = "incidents.api.errors.not_found"
handler500 = "incidents.api.errors.server_error"
