"""The post-mortems' API under /api/v1/ (included before incidents' API)."""

from rest_framework.routers import SimpleRouter

from .postmortems import PostmortemViewSet

router = SimpleRouter()
router.register("postmortems", PostmortemViewSet, basename="postmortem")

urlpatterns = router.urls
