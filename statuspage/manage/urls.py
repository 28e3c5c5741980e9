"""The communications lead's status-page screen in the dashboard (/status-page/)."""

from django.urls import path

from . import maintenance_views, views

app_name = "statuspage-manage"

urlpatterns: list = [
    path("", views.home, name="home"),
    path("preview/", views.preview, name="preview"),
    path("components/<str:code>/status/", views.component_status, name="component-status"),
    path("incidents/<str:ref>/", views.incident, name="incident"),
    # POST-only: what the communications lead says in public.
    path("incidents/<str:ref>/publish/", views.publish, name="publish"),
    path("incidents/<str:ref>/update/", views.update, name="update"),
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
