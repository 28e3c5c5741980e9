"""Post-mortem JSON: what the API shows, and the shapes it reads (the
rules are the services')."""

from __future__ import annotations

from rest_framework import serializers

from ..models import ActionItem, Postmortem, Review, TimelineEntry


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class TimelineEntrySerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(source="event_id", allow_null=True, read_only=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "text", "event", "moment"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["reviewer", "signed_off_at", "checklist", "comment"]
        read_only_fields = fields

    def get_reviewer(self, obj) -> str:
        return obj.reviewer.get_username()


class ActionItemBriefSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "title",
            "owner",
            "due_date",
            "priority",
            "status",
            "kind",
            "ticket_url",
        ]
        read_only_fields = fields

    def get_owner(self, obj) -> str | None:
        return _username(obj.owner)


class PostmortemSerializer(serializers.ModelSerializer):
    incident = serializers.CharField(source="incident.ref", read_only=True)
    owner = serializers.SerializerMethodField()
    timeline = TimelineEntrySerializer(many=True, read_only=True)
    reviewers = ReviewSerializer(source="reviews", many=True, read_only=True)
    participants = serializers.SerializerMethodField()
    action_items = ActionItemBriefSerializer(many=True, read_only=True)
    overdue = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Postmortem
        fields = [
            "id",
            "incident",
            "status",
            "owner",
            "due_at",
            "overdue",
            "meeting_at",
            "participants",
            "summary",
            "timeline",
            "root_cause",
            "contributing_factors",
            "impact",
            "services_affected",
            "users_affected",
            "data_loss",
            "data_loss_details",
            "resolution",
            "what_went_well",
            "what_could_be_improved",
            "lessons_learned",
            "public_summary",
            "reviewers",
            "action_items",
            "created_at",
            "updated_at",
            "submitted_at",
            "published_at",
            "url",
        ]
        read_only_fields = fields

    def get_owner(self, obj) -> str | None:
        return _username(obj.owner)

    def get_participants(self, obj) -> list[str]:
        return [user.get_username() for user in obj.participants.all()]

    def get_overdue(self, obj) -> bool:
        now = self.context.get("now")
        return obj.status != "published" and now is not None and obj.due_at < now

    def get_url(self, obj) -> str:
        from django.urls import reverse

        path = reverse("postmortems:detail", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class TimelineInputSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    text = serializers.CharField(max_length=2000, allow_blank=True)
    event = serializers.IntegerField(required=False, allow_null=True)


class PostmortemPatchSerializer(serializers.Serializer):
    """Any section; lists for the two lists, usernames for people."""

    summary = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.CharField(required=False, allow_blank=True)
    contributing_factors = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False, max_length=100
    )
    impact = serializers.CharField(required=False, allow_blank=True)
    services_affected = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False, max_length=100
    )
    users_affected = serializers.CharField(required=False, allow_blank=True)
    data_loss = serializers.BooleanField(required=False)
    data_loss_details = serializers.CharField(required=False, allow_blank=True)
    resolution = serializers.CharField(required=False, allow_blank=True)
    what_went_well = serializers.CharField(required=False, allow_blank=True)
    what_could_be_improved = serializers.CharField(required=False, allow_blank=True)
    lessons_learned = serializers.CharField(required=False, allow_blank=True)
    public_summary = serializers.CharField(required=False, allow_blank=True)
    meeting_at = serializers.DateTimeField(required=False, allow_null=True)
    reviewers = serializers.ListField(child=serializers.CharField(), required=False, max_length=20)
    participants = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=100
    )
    timeline = TimelineInputSerializer(many=True, required=False)


class PostmortemCreateSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=32, help_text="The incident's reference.")


class SignOffSerializer(serializers.Serializer):
    checklist = serializers.DictField(child=serializers.BooleanField())
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
