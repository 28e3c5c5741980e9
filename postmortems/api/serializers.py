"""Serializers of the post-mortems' API. They read shapes (a date parses, a
number is a number); whether a value is allowed (an active owner, a due date
not in the past, a tracker's URL safe to reach) is the services' question."""

from __future__ import annotations

from rest_framework import serializers

from ..models import ActionItem, ActionKind, ActionStatus, Priority, Tracker, TrackerKind
from ..services.actions import today
from ..services.trackers import mask
from ..tickets import TicketState, state_of, ticket_rows, ticket_states

# --- action items ------------------------------------------------------------------


class ActionItemListSerializer(serializers.ListSerializer):
    """A page of items: their tickets' states read in one query."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        self.child.context["ticket_states"] = ticket_states(items)
        return super().to_representation(items)


class ActionItemSerializer(serializers.ModelSerializer):
    postmortem = serializers.PrimaryKeyRelatedField(read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    ticket_state = serializers.SerializerMethodField(
        help_text='The ticket\'s state: the tracker\'s word ("open", "closed", "created") '
        'once it exists; "pending" while it is being created (retried until the tracker '
        'takes it), "failed" when the tracker refused it for good; "" without one.'
    )
    ticket_error = serializers.SerializerMethodField(
        help_text="Why the ticket is not created yet (the tracker's last answer), if it failed."
    )
    overdue = serializers.SerializerMethodField(
        help_text="Open and past the end of its due date (UTC)."
    )

    class Meta:
        model = ActionItem
        list_serializer_class = ActionItemListSerializer
        fields = [
            "id",
            "postmortem",
            "title",
            "owner",
            "due_date",
            "priority",
            "status",
            "kind",
            "ticket_url",
            "ticket_state",
            "ticket_error",
            "tracker",
            "overdue",
            "done_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _ticket(self, item: ActionItem) -> TicketState:
        known = self.context.get("ticket_states") or {}
        if item.pk in known:
            return known[item.pk]
        return state_of(item, ticket_rows([item.pk]).get(item.pk))

    def get_ticket_state(self, item: ActionItem) -> str:
        return self._ticket(item).state

    def get_ticket_error(self, item: ActionItem) -> str:
        return self._ticket(item).error

    def get_overdue(self, item: ActionItem) -> bool:
        return item.is_open and item.due_date is not None and item.due_date < today()


class ActionItemCreateSerializer(serializers.Serializer):
    postmortem = serializers.IntegerField(help_text="The post-mortem's id.")
    title = serializers.CharField(max_length=300, trim_whitespace=False)
    owner = serializers.CharField(max_length=150, help_text="The owner's username.")
    due_date = serializers.DateField(help_text="YYYY-MM-DD, today or later.")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    kind = serializers.ChoiceField(choices=ActionKind.choices, required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    ticket_url = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class ActionItemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, trim_whitespace=False)
    owner = serializers.CharField(max_length=150, required=False)
    due_date = serializers.DateField(required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    kind = serializers.ChoiceField(choices=ActionKind.choices, required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    ticket_url = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class CreateTicketSerializer(serializers.Serializer):
    tracker = serializers.IntegerField(help_text="The tracker's id.")


# --- trackers ----------------------------------------------------------------------


class TrackerSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=TrackerKind.choices)
    token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="GitHub: a token that may create issues; Jira: an API token (with "
        "username). Write-only: never shown again. Omitted or empty on update keeps it.",
    )
    secret = serializers.SerializerMethodField(
        help_text="Webhook trackers: the HMAC-SHA256 key of X-TreeBeard-Signature, in full "
        "in the answer that creates the tracker (and in rotate-secret/), masked afterwards; "
        "null for other kinds."
    )
    has_token = serializers.SerializerMethodField(help_text="A token is stored.")

    class Meta:
        model = Tracker
        fields = [
            "id",
            "kind",
            "name",
            "base_url",
            "project",
            "token",
            "has_token",
            "username",
            "secret",
            "enabled",
            "created_at",
        ]
        read_only_fields = ["id", "secret", "has_token", "created_at"]
        extra_kwargs = {
            # Uniqueness and URLs are the service's to refuse, in its words.
            "name": {"validators": []},
            "base_url": {"validators": []},
            "project": {"help_text": 'GitHub: "owner/repo"; Jira: the project key.'},
            "username": {"help_text": "Jira: the account the token belongs to."},
        }

    def get_secret(self, tracker: Tracker) -> str | None:
        if tracker.kind != TrackerKind.WEBHOOK:
            return None
        return tracker.secret if self.context.get("reveal") else mask(tracker.secret)

    def get_has_token(self, tracker: Tracker) -> bool:
        return bool(tracker.token)


class TrackerSecretSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField()
