"""The post-mortems' REST API under /api/v1/ (the root URLconf includes it
before incidents'): one router; each topic registers its viewset here."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import action_items, trackers
from .postmortems import PostmortemViewSet

router = SimpleRouter(trailing_slash=True)
router.register("postmortems", PostmortemViewSet, basename="postmortem")
router.register("action-items", action_items.ActionItemViewSet, basename="action-item")
router.register("trackers", trackers.TrackerViewSet, basename="tracker")

urlpatterns = [
    path("", include(router.urls)),
]
