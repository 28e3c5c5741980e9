"""``/api/v1/maintenances/``: scheduled maintenance, addressed by its id
(``code``). Viewers read; responders schedule, edit, post updates and
delete one that has not started. The rules are the services'
(statuspage/services/maintenance.py); serializers check shapes only."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from .. import services
from ..models import Maintenance, MaintenanceStatus, PublicUpdate
from .permissions import ReadViewRespondWrite


class AffectedComponentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    old_status = serializers.CharField()
    new_status = serializers.CharField()


class MaintenanceUpdateSerializer(serializers.ModelSerializer):
    """One public update of a maintenance."""

    id = serializers.CharField(source="code", read_only=True)
    affected_components = AffectedComponentSerializer(many=True, read_only=True)

    class Meta:
        model = PublicUpdate
        fields = ["id", "status", "body", "affected_components", "created_at", "display_at"]
        read_only_fields = fields


class MaintenanceSerializer(serializers.ModelSerializer):
    """A maintenance as the API answers it: ``components`` are component
    ids, ``updates`` newest first."""

    id = serializers.CharField(source="code", read_only=True)
    status = serializers.ChoiceField(choices=MaintenanceStatus.choices, read_only=True)
    components = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    updates = MaintenanceUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = Maintenance
        fields = [
            "id",
            "name",
            "status",
            "scheduled_for",
            "scheduled_until",
            "components",
            "auto_transition",
            "counts_as_downtime",
            "started_at",
            "resolved_at",
            "updates",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MaintenanceWriteSerializer(serializers.Serializer):
    """What schedules or edits a maintenance. ``message``: the first
    update's body when scheduling; on an edit, a new update."""

    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    scheduled_for = serializers.DateTimeField()
    scheduled_until = serializers.DateTimeField()
    components = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Component ids."
    )
    message = serializers.CharField(allow_blank=True, trim_whitespace=False)
    auto_transition = serializers.BooleanField(required=False)
    counts_as_downtime = serializers.BooleanField(required=False)


class MaintenanceUpdatePostSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MaintenanceStatus.choices)
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class MaintenancePagination(PageNumberPagination):
    """``?page=N&page_size=M``; answers ``count, next, previous, results``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _read(serializer_class, request, *, partial: bool = False) -> dict:
    data = serializer_class(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    if "components" in fields:
        fields["components"] = services.components_by_code(fields["components"])
    return fields


class MaintenanceViewSet(viewsets.ModelViewSet):
    """Scheduled maintenance, newest start first. With ``auto_transition``
    the engine starts it at ``scheduled_for`` (its components under
    maintenance) and completes it at ``scheduled_until``; subscribers are
    reminded before it starts."""

    queryset = Maintenance.objects.prefetch_related(
        "components",
        Prefetch("updates", queryset=PublicUpdate.objects.order_by("-display_at", "-id")),
    ).order_by("-scheduled_for", "-id")
    serializer_class = MaintenanceSerializer
    permission_classes = [ReadViewRespondWrite]
    pagination_class = MaintenancePagination
    lookup_field = "code"
    lookup_url_kwarg = "id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _answer(self, maintenance: Maintenance, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=maintenance.pk)
        return Response(MaintenanceSerializer(fresh).data, status=code)

    @extend_schema(request=MaintenanceWriteSerializer, responses={201: MaintenanceSerializer})
    def create(self, request, *args, **kwargs):
        fields = _read(MaintenanceWriteSerializer, request)
        maintenance = services.maintenance_schedule(actor=request.user, **fields)
        return self._answer(maintenance, status.HTTP_201_CREATED)

    @extend_schema(request=MaintenanceWriteSerializer, responses=MaintenanceSerializer)
    def partial_update(self, request, *args, **kwargs):
        maintenance = self.get_object()
        fields = _read(MaintenanceWriteSerializer, request, partial=True)
        services.maintenance_update(actor=request.user, maintenance=maintenance, **fields)
        return self._answer(maintenance)

    def perform_destroy(self, instance):
        services.maintenance_delete(actor=self.request.user, maintenance=instance)

    @extend_schema(
        request=MaintenanceUpdatePostSerializer, responses={201: MaintenanceUpdateSerializer}
    )
    @action(detail=True, methods=["post"], url_path="updates")
    def updates(self, request, **kwargs):
        """Post an update by hand: the same status again (a note), or the
        next (scheduled → in_progress → verifying → completed; completed
        at any time)."""
        maintenance = self.get_object()
        fields = _read(MaintenanceUpdatePostSerializer, request)
        update = services.maintenance_post_update(
            actor=request.user, maintenance=maintenance, **fields
        )
        return Response(MaintenanceUpdateSerializer(update).data, status=status.HTTP_201_CREATED)
