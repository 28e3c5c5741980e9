"""URLs of the status-page host (``STATUS_PAGE_HOST``, see treebeard_ir/hosts.py).

Only the public status page lives here; the dashboard's URLs do not exist on
this host at all, so nothing here can reverse or redirect to them.
"""

from django.urls import path

from treebeard_ir import health

from . import v2_views, views

app_name = "statuspage"

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/<str:code>", views.incident, name="incident"),
    # Statuspage's public API v2 (statuspage/v2_views.py).
    path("api/v2/summary.json", v2_views.summary, name="v2-summary"),
    path("api/v2/status.json", v2_views.status, name="v2-status"),
    path("api/v2/components.json", v2_views.components, name="v2-components"),
    path("api/v2/incidents.json", v2_views.incidents, name="v2-incidents"),
    path(
        "api/v2/incidents/unresolved.json",
        v2_views.incidents_unresolved,
        name="v2-incidents-unresolved",
    ),
    path(
        "api/v2/scheduled-maintenances.json",
        v2_views.scheduled_maintenances,
        name="v2-scheduled-maintenances",
    ),
    path(
        "api/v2/scheduled-maintenances/upcoming.json",
        v2_views.scheduled_maintenances_upcoming,
        name="v2-scheduled-maintenances-upcoming",
    ),
    path(
        "api/v2/scheduled-maintenances/active.json",
        v2_views.scheduled_maintenances_active,
        name="v2-scheduled-maintenances-active",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler404 = "statuspage.views.not_found"
