"""Serializers for notification channels (``/api/v1/channels/``).

Slack and webhook URLs are credentials, so the target is masked in every
answer but the one to the request that created the channel (PagerDuty
routing keys show their last four characters). The webhook's signing
secret is shown on creation and by ``rotate-secret/`` only.

These parse the request's shapes (text, a list, a kind); the rules (a
target fit for its kind, safe to connect to, severities P0..P3, a kind that
never changes) are ``incidents.services.channels``'s.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Channel, ChannelKind, Severity
from ..notify.channels import mask_target


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": Severity.values}})
class SeveritiesField(serializers.ListField):
    child = serializers.CharField()


class ChannelSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    target = serializers.CharField(
        max_length=1000,
        help_text="Slack incoming-webhook URL, email address, PagerDuty routing key or "
        "webhook URL. URLs and keys are masked in answers (they are secrets), except in "
        "the answer to the creating request.",
    )
    severities = SeveritiesField(
        required=False,
        help_text="Severities this channel receives; omitted = the guide's routing for its "
        "kind (Slack P0-P2, email P1+P3 digest, PagerDuty P0, webhook all).",
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "target",
            "severities",
            "enabled",
            "created_at",
            "last_error",
            "last_error_at",
        ]
        read_only_fields = ["id", "created_at", "last_error", "last_error_at"]
        # A name in use is the service's to refuse, in its words.
        extra_kwargs = {"name": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("reveal"):
            data["target"] = mask_target(instance.kind, instance.target)
        return data


class ChannelCreatedSerializer(ChannelSerializer):
    """The answer to creating a channel: the only time the target is shown in
    full, with the webhook's signing secret (null for other kinds)."""

    secret = serializers.SerializerMethodField(
        help_text="HMAC-SHA256 key of a webhook channel; shown on creation and by "
        "rotate-secret/ only."
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]
        read_only_fields = [*ChannelSerializer.Meta.read_only_fields, "secret"]

    def get_secret(self, obj) -> str | None:
        return obj.secret if obj.kind == ChannelKind.WEBHOOK else None


class RotatedSecretSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField()


class ChannelTestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    delivered = serializers.BooleanField()
    ref = serializers.CharField(required=False, help_text="The test message's reference.")
    results = serializers.ListField(child=serializers.DictField(), required=False)
    detail = serializers.CharField(required=False, help_text="Why the receiver refused it.")
    status_code = serializers.IntegerField(required=False)
