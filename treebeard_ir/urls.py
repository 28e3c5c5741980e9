from django.contrib import admin
from django.urls import include, path

from incidents.api.ingest_views import pagerduty_enqueue

from . import api_docs, health, signin

admin.site.site_header = "TreeBeard IR administration"
admin.site.site_title = "TreeBeard IR"
admin.site.index_title = "Policies, people and incidents"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Throttled, with links from SITE_URL (treebeard_ir/signin.py); the rest of
    # Django's sign-in views as they come.
    path("accounts/password_reset/", signin.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        signin.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # The admin's sign-in page links "Forgotten your password?" here.
    path("admin/password_reset/", signin.PasswordResetView.as_view(), name="admin_password_reset"),
    path("admin/", admin.site.urls),
    # The status page's management API shares /api/v1/ (and its auth, errors
    # and schema) with incidents'; included first, it may add incident actions
    # such as incidents/<ref>/publish/ without incidents knowing it.
    path("api/v1/", include("statuspage.api.urls")),
    # Post-mortems, action items and trackers (postmortems/api/urls.py).
    path("api/v1/", include("postmortems.api.urls")),
    path("api/v1/", include("incidents.api.urls")),
    path("api/schema/", api_docs.SchemaView.as_view(), name="schema"),
    path("api/docs/", api_docs.DocsView.as_view(url_name="schema"), name="api-docs"),
    path("v2/enqueue", pagerduty_enqueue, name="pagerduty-enqueue"),
    # The public status page on the main host (STATUS_PAGE_HOST serves it at /).
    path("status/", include("statuspage.urls")),
    path("status-page/", include("statuspage.manage.urls")),
    path("postmortems/", include("postmortems.urls")),
    path("", include("incidents.dashboard.urls")),
]

# Under /api/ and /v2/ every error is JSON, even for URLs no route matches.
handler404 = "incidents.api.errors.not_found"
handler500 = "incidents.api.errors.server_error"
