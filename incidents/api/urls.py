from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import ingest_views, views

router = DefaultRouter(trailing_slash=True)
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("severities", views.SeverityPolicyViewSet, basename="severity")
router.register("integrations", views.IntegrationViewSet, basename="integration")

urlpatterns = [
    # The router first: otherwise ``integrations/<id>/rotate-token/`` would be
    # taken for a webhook with token <id> and kind "rotate-token".
    path("", include(router.urls)),
    path(
        "integrations/<str:token>/<str:kind>/",
        ingest_views.integration_webhook,
        name="integration-webhook",
    ),
]
