"""The status page's management API, under /api/v1/ beside incidents' (the
root URLconf includes it first): components, groups, maintenances,
subscribers, and publishing an incident."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .subscribers import SubscriberViewSet

# SimpleRouter: no API root view here, which would hide incidents' own.
router = SimpleRouter(trailing_slash=True)
router.register("status-subscribers", SubscriberViewSet, basename="status-subscriber")

urlpatterns: list = [
    path("", include(router.urls)),
]
