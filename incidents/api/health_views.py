"""``GET /api/v1/health/engine/``: the SLA engine's watchdog figures."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from ..engine.watchdog import engine_health
from .permissions import SignedInRead

EngineHealthSerializer = inline_serializer(
    "EngineHealth",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "stalled"]),
        "stalled": serializers.BooleanField(),
        "stall_threshold_seconds": serializers.IntegerField(),
        "checked_at": serializers.DateTimeField(),
        "oldest_due_deadline_age_seconds": serializers.IntegerField(),
        "due_deadlines": serializers.IntegerField(),
        "oldest_undelivered_notification_age_seconds": serializers.IntegerField(),
        "undelivered_notifications": serializers.IntegerField(),
        "last_sweep_at": serializers.DateTimeField(allow_null=True),
        "last_sweep_age_seconds": serializers.IntegerField(allow_null=True),
    },
)


@extend_schema(
    responses=EngineHealthSerializer,
    summary="Is the SLA engine keeping up? (oldest due deadline, oldest undelivered message)",
)
@api_view(["GET"])
@permission_classes([SignedInRead])
def engine(request):
    return Response(engine_health())
