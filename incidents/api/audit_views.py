"""``GET /api/v1/audit/``: the audit log of managers' changes, for managers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets

from ..models import AuditEntry, EntryPoint
from .filters import choice_list
from .oncall_serializers import parse_aware
from .pagination import PagePagination
from .permissions import ManagerOnly


class AuditAccess(ManagerOnly):
    message = "Only managers can read the audit log."


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    entry_point = serializers.ChoiceField(choices=EntryPoint.choices)

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "at",
            "actor",
            "entry_point",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
        )

    def get_actor(self, entry: AuditEntry) -> str | None:
        """The username of who made the change (null: TreeBeard itself)."""
        return entry.actor_name or None


FILTERS = [
    OpenApiParameter("object_type", str, description="What was changed: schedule, channel, …"),
    OpenApiParameter("object_id", str, description="Its id (with object_type)."),
    OpenApiParameter("actor", str, description="Username of who made the change."),
    OpenApiParameter("action", str, description="The service: schedule_delete, override_add, …"),
    OpenApiParameter(
        "entry_point", str, description="Comma-separated: " + ", ".join(EntryPoint.values)
    ),
    OpenApiParameter("since", str, description="ISO 8601 time with offset (inclusive)."),
    OpenApiParameter("until", str, description="ISO 8601 time with offset (exclusive)."),
]


@extend_schema(parameters=FILTERS)
class AuditViewSet(viewsets.ReadOnlyModelViewSet):
    """Who changed which policy, schedule, override, channel, integration,
    token or group membership, when, through which entry point, and what it
    was before and after (secrets masked). Newest first."""

    serializer_class = AuditEntrySerializer
    permission_classes = [AuditAccess]
    pagination_class = PagePagination

    def get_queryset(self):
        rows = AuditEntry.objects.all()
        query = self.request.query_params
        for name in ("object_type", "object_id", "action"):
            if value := query.get(name, "").strip():
                rows = rows.filter(**{name: value})
        if actor := query.get("actor", "").strip():
            rows = rows.filter(actor_name=actor)
        if (points := choice_list(query, "entry_point", EntryPoint)) is not None:
            rows = rows.filter(entry_point__in=points)
        if raw := query.get("since"):
            rows = rows.filter(at__gte=parse_aware(raw, "since"))
        if raw := query.get("until"):
            rows = rows.filter(at__lt=parse_aware(raw, "until"))
        return rows
