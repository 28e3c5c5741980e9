"""URLs of the status-page host (``STATUS_PAGE_HOST``, see treebeard_ir/hosts.py).

Only the public status page lives here; the dashboard's URLs do not exist on
this host at all, so nothing here can reverse or redirect to them.
"""

from django.urls import path

from treebeard_ir import health

from . import subscribe_views, views

app_name = "statuspage"

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/<str:code>", views.incident, name="incident"),
    path("subscribe", subscribe_views.subscribe, name="subscribe"),
    path(
        "subscriptions/confirm/<str:token>",
        subscribe_views.confirm,
        name="subscription-confirm",
    ),
    path("unsubscribe/<str:token>", subscribe_views.unsubscribe, name="unsubscribe"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler404 = "statuspage.views.not_found"
