"""URLs of the public status page: the status host's root
(``STATUS_PAGE_HOST``, through statuspage/host_urls.py) and /status/ on the
main host, both under the ``statuspage`` namespace.

Only the public status page lives here; the dashboard's URLs do not exist on
the status host at all, so nothing here can reverse or redirect to them.
"""

from django.urls import path

from treebeard_ir import health

from . import views

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
    # Probes.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler404 = "statuspage.views.not_found"
