"""The management API's JSON. Serializers check the input's shape only (a
number is a number, a date parses, a group id names a group); every rule is
the services' (docs/architecture.md, "Entry points are thin").

Public objects are addressed by their ``code`` (``id`` in the JSON), as in
the v2 JSON the status host serves.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from ..models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    Impact,
    PublicIncident,
    PublicStatus,
    PublicUpdate,
)

# The statuses an update may set (``postmortem`` comes with a post-mortem).
POSTABLE_STATUSES = [(s.value, s.label) for s in PublicStatus if s != PublicStatus.POSTMORTEM]
# The status host's own URLs (it is the root URLconf there).
STATUS_URLCONF = "statuspage.urls"


def public_url(code: str) -> str:
    """The public incident's page on the status host."""
    path = reverse("incident", args=[code], urlconf=STATUS_URLCONF)
    return f"https://{settings.STATUS_PAGE_HOST}{path}"


def component_statuses() -> serializers.ListField:
    """``[{"id": <component id>, "status": <status>}]``: checked by the
    service (``parse_component_statuses``), in the same words as on
    ``POST /api/v1/incidents/<ref>/updates/``."""
    return serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=200,
        help_text='[{"id": <component id>, "status": <component status>}], '
        "the statuses this update sets.",
    )


class OfferedChoiceField(serializers.ChoiceField):
    """Documents its choices (an enum in the schema) without refusing
    others: the service refuses an unknown value, in the same words at
    every entry point (the admin's select is the same kind of field)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return data


class ComponentSerializer(serializers.Serializer):
    id = serializers.CharField(source="code", read_only=True)
    # Blank and over-long names are the service's to refuse, in its words.
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(required=False, allow_blank=True)
    group = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ComponentGroup.objects.all(),
        required=False,
        allow_null=True,
        help_text="The component group's id, or null.",
    )
    status = OfferedChoiceField(choices=ComponentStatus.choices, required=False)
    position = serializers.IntegerField(required=False)
    showcase = serializers.BooleanField(required=False)
    only_show_if_degraded = serializers.BooleanField(required=False)
    start_date = serializers.DateField(required=False, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ComponentStatusSerializer(serializers.Serializer):
    status = OfferedChoiceField(choices=ComponentStatus.choices)


class ComponentGroupSerializer(serializers.Serializer):
    id = serializers.CharField(source="code", read_only=True)
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(required=False, allow_blank=True)
    position = serializers.IntegerField(required=False)
    components = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_components(self, obj) -> list[str]:
        """The ids of its components, in the page's order (prefetched)."""
        return [c.code for c in sorted(obj.components.all(), key=lambda c: (c.position, c.name))]


class PublicUpdateSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="code", read_only=True)
    affected_components = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = PublicUpdate
        fields = ["id", "status", "body", "created_at", "display_at", "affected_components"]
        read_only_fields = fields


class IncidentComponentSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="code", read_only=True)

    class Meta:
        model = Component
        fields = ["id", "name", "status"]
        read_only_fields = fields


class PublicIncidentSerializer(serializers.ModelSerializer):
    """A public incident as the public sees it: nothing internal (no ref,
    no internal title, summary, impact or people)."""

    id = serializers.CharField(source="code", read_only=True)
    url = serializers.SerializerMethodField()
    updates = PublicUpdateSerializer(many=True, read_only=True)
    components = IncidentComponentSerializer(many=True, read_only=True)

    class Meta:
        model = PublicIncident
        fields = [
            "id",
            "name",
            "status",
            "impact",
            "url",
            "created_at",
            "updated_at",
            "started_at",
            "monitoring_at",
            "resolved_at",
            "updates",
            "components",
        ]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return public_url(obj.code)


class PublishSerializer(serializers.Serializer):
    title = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="The public name."
    )
    impact = OfferedChoiceField(choices=Impact.choices)
    message = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="The first public update."
    )
    components = component_statuses()


class PublicUpdatePostSerializer(serializers.Serializer):
    status = OfferedChoiceField(choices=POSTABLE_STATUSES)
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    components = component_statuses()


class PublicIncidentPatchSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    impact = OfferedChoiceField(choices=Impact.choices, required=False)
