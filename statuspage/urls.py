"""URLs of the public status page: the status host's root
(``STATUS_PAGE_HOST``, through statuspage/host_urls.py) and /status/ on the
main host, both under the ``statuspage`` namespace.

Only the public status page lives here; the dashboard's URLs do not exist on
the status host at all, so nothing here can reverse or redirect to them.
"""

from django.urls import path

from treebeard_ir import health

from . import subscribe_views, v2_views, views

app_name = "statuspage"

urlpatterns = [
    # The public pages, feeds, calendar and badge (statuspage/views.py).
    path("", views.home, name="home"),
    path("incidents/<str:code>", views.incident, name="incident"),
    path("maintenance/<str:code>", views.maintenance, name="maintenance"),
    path("history", views.history, name="history"),
    path("history.atom", views.history_atom, name="history_atom"),
    path("history.rss", views.history_rss, name="history_rss"),
    path(
        "components/<str:code>/history.atom",
        views.component_history_atom,
        name="component_history_atom",
    ),
    path(
        "components/<str:code>/history.rss",
        views.component_history_rss,
        name="component_history_rss",
    ),
    path("maintenance.ics", views.maintenance_ics, name="maintenance_ics"),
    path("badge.svg", views.badge, name="badge"),
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
    path("subscribe", subscribe_views.subscribe, name="subscribe"),
    path(
        "subscriptions/confirm/<str:token>",
        subscribe_views.confirm,
        name="subscription-confirm",
    ),
    path("unsubscribe/<str:token>", subscribe_views.unsubscribe, name="unsubscribe"),
    # Probes.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler404 = "statuspage.views.not_found"
