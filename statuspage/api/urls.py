"""The status page's management API, under /api/v1/ beside incidents' (the
root URLconf includes it first): components, groups, maintenances,
subscribers, and publishing an incident."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .maintenances import MaintenanceViewSet

router = SimpleRouter()
router.register("maintenances", MaintenanceViewSet, basename="maintenance")

urlpatterns: list = [
    path("", include(router.urls)),
]
