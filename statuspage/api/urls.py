"""The status page's management API, under /api/v1/ beside incidents' (the
root URLconf includes it first): components, groups, maintenances,
subscribers, and publishing an incident."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import components, incidents
from .maintenances import MaintenanceViewSet
from .subscribers import SubscriberViewSet

router = SimpleRouter(trailing_slash=True)
router.register("components", components.ComponentViewSet, basename="sp-component")
router.register("component-groups", components.ComponentGroupViewSet, basename="sp-group")
router.register("public-incidents", incidents.PublicIncidentViewSet, basename="sp-public-incident")
router.register("maintenances", MaintenanceViewSet, basename="maintenance")
router.register("status-subscribers", SubscriberViewSet, basename="status-subscriber")

urlpatterns = [
    path(
        "incidents/<str:ref>/publish/",
        incidents.PublishView.as_view(),
        name="sp-incident-publish",
    ),
    path("", include(router.urls)),
]
