from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import audit_views, channel_views, health_views, ingest_views, oncall_views, views

router = DefaultRouter(trailing_slash=True)
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("severities", views.SeverityPolicyViewSet, basename="severity")
router.register("integrations", views.IntegrationViewSet, basename="integration")
router.register("schedules", oncall_views.ScheduleViewSet, basename="schedule")
router.register("channels", channel_views.ChannelViewSet, basename="channel")
router.register("audit", audit_views.AuditViewSet, basename="audit")

urlpatterns = [
    # The router first: otherwise ``integrations/<id>/rotate-token/`` would be
    # taken for a webhook with token <id> and kind "rotate-token".
    path("", include(router.urls)),
    path("health/engine/", health_views.engine, name="engine-health"),
    path("oncall/", oncall_views.OncallView.as_view(), name="oncall"),
    path(
        "schedules/<int:pk>/calendar.ics",
        oncall_views.ScheduleViewSet.as_view({"get": "calendar"}),
        name="schedule-calendar",
    ),
    path(
        "integrations/<str:token>/<str:kind>/",
        ingest_views.integration_webhook,
        name="integration-webhook",
    ),
]
