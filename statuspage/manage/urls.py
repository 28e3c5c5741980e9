"""The communications lead's status-page screen in the dashboard (/status-page/)."""

from django.urls import path

from . import maintenance_views

app_name = "statuspage-manage"

urlpatterns: list = [
    path("maintenance/", maintenance_views.maintenances, name="maintenances"),
    path("maintenance/new/", maintenance_views.maintenance_new, name="maintenance-new"),
    path("maintenance/<str:code>/", maintenance_views.maintenance, name="maintenance"),
    path(
        "maintenance/<str:code>/updates/",
        maintenance_views.maintenance_post_update,
        name="maintenance-post-update",
    ),
    path(
        "maintenance/<str:code>/delete/",
        maintenance_views.maintenance_delete,
        name="maintenance-delete",
    ),
]
