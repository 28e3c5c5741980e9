"""API shapes. Serializers validate and present; services decide (no rules here)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    OPEN_STATUS_CHOICES,
    Alert,
    EscalationPath,
    Incident,
    Integration,
    IntegrationKind,
    MomentKind,
    NotifyChannel,
    Role,
    RoleAssignment,
    Service,
    Severity,
    SeverityPolicy,
    Source,
    StatusUpdate,
    TimelineEvent,
    Visibility,
)
from ..services.integrations import INTEGRATION_FIELDS
from ..services.policies import SEVERITY_FIELDS

User = get_user_model()


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)


class IncidentSerializer(serializers.ModelSerializer):
    services = serializers.SerializerMethodField()
    commander = serializers.SerializerMethodField()
    communications_lead = serializers.SerializerMethodField()
    responders = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "ref",
            "title",
            "severity",
            "status",
            "summary",
            "impact",
            "services",
            "detected_at",
            "acknowledged_at",
            "identified_at",
            "mitigated_at",
            "resolved_at",
            "commander",
            "communications_lead",
            "responders",
            "escalation_level",
            "business_escalation_level",
            "source",
            "is_drill",
            "customer_impacting",
            "declared_at",
            "root_cause",
            "resolution",
            "false_positive",
            "reopen_count",
            "alert_count",
            "url",
            "api_url",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_services(self, obj) -> list[str]:
        return sorted(s.name for s in obj.services.all())

    def get_commander(self, obj) -> str | None:
        return _username(obj.commander)

    def get_communications_lead(self, obj) -> str | None:
        return _username(obj.communications_lead)

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_responders(self, obj) -> list[str]:
        return [u.get_username() for u in obj.responders]

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, obj) -> str:
        """The incident's dashboard page."""
        return self._absolute(obj.get_absolute_url())

    def get_api_url(self, obj) -> str:
        return self._absolute(f"/api/v1/incidents/{obj.ref}/")


class DeclareSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        required=False,
        help_text="Omit to let TreeBeard suggest one from the guide's criteria.",
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    impact = serializers.CharField(required=False, allow_blank=True, default="")
    services = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    source = serializers.ChoiceField(
        choices=Source.choices, required=False, default=Source.TEAM_MEMBER
    )
    is_drill = serializers.BooleanField(required=False, default=False)
    customer_impacting = serializers.BooleanField(required=False, default=False)
    detected_at = serializers.DateTimeField(required=False)
    commander = UsernameField(required=False, allow_null=True)


class IncidentPatchSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    impact = serializers.CharField(required=False, allow_blank=True)
    services = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    customer_impacting = serializers.BooleanField(required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    status = serializers.ChoiceField(
        choices=OPEN_STATUS_CHOICES,
        required=False,
        help_text="investigating, identified or monitoring; resolve with resolve/.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the severity or status changed.",
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class EscalateSerializer(serializers.Serializer):
    reason = serializers.CharField()
    path = serializers.ChoiceField(
        choices=EscalationPath.choices,
        required=False,
        default=EscalationPath.TECHNICAL,
        help_text="technical (L1 on-call engineer … L4 VP Engineering / CTO, P0 only) or "
        "business (support lead … CEO; the first escalation starts it at L1).",
    )


class PagedPersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    methods = serializers.ListField(
        child=serializers.CharField(),
        help_text="How the page reaches them: email, pagerduty (direct pages) and slack "
        "(mentioned in the Slack channel's message).",
    )


class EscalationResultSerializer(IncidentSerializer):
    """The incident after a manual escalation, with whom it paged."""

    paged = PagedPersonSerializer(
        many=True,
        read_only=True,
        help_text="People paged at the level reached; empty when nobody could be paged.",
    )
    escalation_message = serializers.CharField(
        read_only=True,
        help_text='What happened, as the dashboard says it ("Escalated to L2 Senior engineer: '
        'paged Sam by email", "Escalated to L2: nobody on call — paged L3 …").',
    )

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "paged", "escalation_message"]
        read_only_fields = fields


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ResolveSerializer(serializers.Serializer):
    root_cause = serializers.CharField()
    resolution = serializers.CharField(required=False, allow_blank=True, default="")
    false_positive = serializers.BooleanField(required=False, default=False)


class StatusUpdateSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = StatusUpdate
        fields = ["id", "status", "message", "visibility", "posted_at", "author"]
        read_only_fields = fields

    def get_author(self, obj) -> str | None:
        return _username(obj.author)


class PostUpdateSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=10_000)
    status = serializers.ChoiceField(choices=OPEN_STATUS_CHOICES, required=False)
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, default=Visibility.INTERNAL
    )
    components = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=200,
        help_text='With a public update: [{"id": <component id>, "status": <status>}].',
    )


class RoleAssignmentSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    assigned_by = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()

    class Meta:
        model = RoleAssignment
        fields = ["role", "user", "assigned_at", "assigned_by", "relieved_at", "active"]
        read_only_fields = fields

    def get_user(self, obj) -> str:
        return obj.user.get_username()

    def get_assigned_by(self, obj) -> str | None:
        return _username(obj.assigned_by)

    def get_active(self, obj) -> bool:
        return obj.relieved_at is None


class AssignRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    user = UsernameField()
    relieve = serializers.BooleanField(
        required=False, default=False, help_text="true takes the role away instead."
    )


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    moment = serializers.SerializerMethodField(
        help_text="The key moment it was marked as (detection, diagnosis, repair, decision)."
    )

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "at", "actor", "message", "before", "after", "detail", "moment"]
        read_only_fields = fields

    def get_moment(self, obj) -> str | None:
        mark = getattr(obj, "mark", None)
        return mark.kind if mark is not None else None

    def get_actor(self, obj) -> str | None:
        """Username, or null when TreeBeard itself (a rule, an alert) acted."""
        return _username(obj.actor)


class MarkSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=MomentKind.choices,
        allow_null=True,
        help_text="detection, diagnosis, repair or decision; null to unmark.",
    )


# The shape of a policy; its rules (a fixed acknowledge target or "next
# business day", not both) are ``services.severity_policy_update``'s.
class SeverityPolicySerializer(serializers.ModelSerializer):
    notify_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=NotifyChannel.values),
    )

    class Meta:
        model = SeverityPolicy
        fields = ["severity", *SEVERITY_FIELDS, "updated_at"]
        read_only_fields = ["severity", "updated_at"]


class IntegrationSerializer(serializers.ModelSerializer):
    default_service = serializers.CharField(
        source="default_service.name",
        max_length=Service._meta.get_field("name").max_length,
        required=False,
        allow_null=True,
        default=None,
    )
    endpoints = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id",
            *INTEGRATION_FIELDS,
            "token_prefix",
            "created_at",
            "last_alert_at",
            "endpoints",
        ]
        read_only_fields = ["id", "token_prefix", "created_at", "last_alert_at", "endpoints"]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_endpoints(self, obj) -> dict:
        """Where to send alerts; the secret part is shown only on creation."""
        token = self.context.get("token")
        request = self.context.get("request")
        if not token:
            return {}
        base = request.build_absolute_uri("/") if request else "/"
        return {
            "webhook_url": f"{base}api/v1/integrations/{token}/{self._url_kind(obj)}/",
            "events_v2_url": f"{base}v2/enqueue",
            "routing_key": token,
        }

    @staticmethod
    def _url_kind(obj) -> str:
        return obj.kind if obj.kind != IntegrationKind.PAGERDUTY else "generic"


class IntegrationCreatedSerializer(IntegrationSerializer):
    """The answer to creating an integration: the only time the token is shown."""

    token = serializers.CharField(
        read_only=True, help_text="The secret token; shown once, stored only hashed."
    )

    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "token"]
        read_only_fields = [*IntegrationSerializer.Meta.read_only_fields, "token"]


class AlertSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="ref", read_only=True)
    # Empty until the alert is triaged; the schema must allow it.
    severity = serializers.ChoiceField(choices=Severity.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "fingerprint",
            "status",
            "title",
            "source_severity",
            "severity",
            "severity_reasons",
            "service",
            "labels",
            "annotations",
            "values",
            "url",
            "starts_at",
            "ends_at",
            "received_at",
            "incident",
            "action",
        ]
        read_only_fields = fields
