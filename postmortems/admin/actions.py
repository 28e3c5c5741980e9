"""Action items (responders follow them up; the list shows owner, due date,
status and what is overdue) and trackers (managers only; the token is
write-only and the webhook's signing secret shown once)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from incidents.errors import DomainError

from .. import access
from ..models import OPEN_ACTIONS, ActionItem, Tracker, TrackerKind
from ..services import actions, trackers
from ..tickets import ticket_states
from .common import ServiceAdmin, ServiceForm

# --- action items ------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Overdue"), ("no", "Not overdue"))

    def queryset(self, request, queryset):
        late = {"status__in": OPEN_ACTIONS, "due_date__lt": actions.today()}
        if self.value() == "yes":
            return queryset.filter(**late)
        if self.value() == "no":
            return queryset.exclude(**late)
        return queryset


class ActionItemForm(ServiceForm):
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
    )
    # Text: whether it is a usable URL is the service's to say, in its words.
    ticket_url = forms.CharField(required=False, max_length=1000)

    class Meta:
        model = ActionItem
        fields = ("postmortem", "title", "owner", "due_date", "priority", "kind", "status")
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}


@admin.register(ActionItem)
class ActionItemAdmin(ServiceAdmin):
    """Follow-ups of post-mortems, published ones too. The rules (an active
    owner, a due date not in the past for a new item) are
    ``postmortems.services.actions``'s, shown beside the fields."""

    form = ActionItemForm
    list_display = (
        "title",
        "postmortem",
        "owner",
        "due_date",
        "status",
        "priority",
        "kind",
        "is_overdue",
        "ticket",
    )
    list_filter = (OverdueFilter, "status", "priority", "kind")
    list_select_related = ("owner", "postmortem__incident")
    search_fields = ("title", "owner__username")
    date_hierarchy = "due_date"

    def get_fields(self, request, obj=None):
        base = ("title", "owner", "due_date", "priority", "kind", "status", "ticket_url")
        if obj is None:
            return ("postmortem", *base)
        return ("postmortem", *base, "ticket_status", "tracker", "done_at", "created_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("postmortem", "ticket_status", "tracker", "done_at", "created_at")

    def has_view_permission(self, request, obj=None) -> bool:
        return access.can_view(request.user)

    def has_module_permission(self, request) -> bool:
        return access.can_view(request.user)

    def has_add_permission(self, request) -> bool:
        return access.can_respond(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return access.can_respond(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return access.can_respond(request.user)

    def add_row(self, request, data: dict) -> ActionItem:
        return actions.action_item_add(
            actor=request.user,
            postmortem=data["postmortem"],
            title=data["title"],
            owner=data["owner"],
            due_date=data["due_date"],
            priority=data["priority"],
            kind=data["kind"],
            status=data["status"],
            ticket_url=data.get("ticket_url") or "",
        )

    def change_row(self, request, item: ActionItem, changes: dict) -> None:
        actions.action_item_update(actor=request.user, item=item, **changes)

    def remove_row(self, request, item: ActionItem) -> None:
        actions.action_item_delete(actor=request.user, item=item)

    @admin.display(boolean=True, description="overdue")
    def is_overdue(self, item: ActionItem) -> bool:
        return item.is_open and item.due_date is not None and item.due_date < actions.today()

    @admin.display(description="ticket")
    def ticket_status(self, item: ActionItem) -> str:
        """The ticket's state, or its request's: pending (with the tracker's
        last answer while it is retried) or failed."""
        known = ticket_states([item])[item.pk]
        if not known.state:
            return "—"
        return f"{known.state}: {known.error}" if known.error else known.state

    @admin.display(description="ticket")
    def ticket(self, item: ActionItem) -> str:
        if not item.ticket_url:
            return ""
        return format_html('<a href="{}" rel="noopener noreferrer">ticket</a>', item.ticket_url)


# --- trackers ----------------------------------------------------------------------


class TrackerForm(ServiceForm):
    base_url = forms.CharField(
        max_length=500,
        help_text="GitHub: https://api.github.com (or your Enterprise /api/v3); Jira: "
        "https://your-domain.atlassian.net; webhook: the URL to POST to. Private and "
        "loopback addresses are refused unless NOTIFY_ALLOWED_NETWORKS names them.",
    )
    # Write-only: not a field of the form's model fields, so the stored token
    # is never rendered back (not even as a hidden value).
    token = forms.CharField(
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="GitHub: a token that may create issues; Jira: an API token. Never shown "
        "again; leave blank to keep the stored one.",
    )

    class Meta:
        model = Tracker
        fields = ("name", "kind", "base_url", "project", "username", "enabled")
        help_texts = {
            "project": 'GitHub: "owner/repo"; Jira: the project key (e.g. OPS).',
            "username": "Jira: the account the API token belongs to.",
        }


@admin.register(Tracker)
class TrackerAdmin(ServiceAdmin):
    """Where action items become tickets; managers only."""

    form = TrackerForm
    list_display = ("name", "kind", "base_url", "project", "enabled", "has_token")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    actions = ["rotate_secret"]

    def get_fields(self, request, obj=None):
        base = ("name", "kind", "base_url", "project", "username", "token", "enabled")
        if obj is None:
            return base
        secret = ("signing_secret",) if obj.kind == TrackerKind.WEBHOOK else ()
        return (*base, *secret, "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("kind", "signing_secret", "created_at")

    def has_module_permission(self, request) -> bool:
        return access.can_manage(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return access.can_manage(request.user)

    def has_add_permission(self, request) -> bool:
        return access.can_manage(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return access.can_manage(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return access.can_manage(request.user)

    # A typed token is starred in error reports (Django's filter).
    @method_decorator(sensitive_post_parameters("token"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def add_row(self, request, data: dict) -> Tracker:
        tracker = trackers.tracker_create(
            actor=request.user,
            kind=data["kind"],
            name=data["name"],
            base_url=data["base_url"],
            project=data["project"],
            token=data["token"],
            username=data["username"],
            enabled=data["enabled"],
        )
        if tracker.kind == TrackerKind.WEBHOOK:
            _show_secret_once(self, request, tracker)
        return tracker

    def change_row(self, request, tracker: Tracker, changes: dict) -> None:
        trackers.tracker_update(actor=request.user, tracker=tracker, **changes)

    def remove_row(self, request, tracker: Tracker) -> None:
        trackers.tracker_delete(actor=request.user, tracker=tracker)

    @admin.display(boolean=True, description="token")
    def has_token(self, tracker: Tracker) -> bool:
        return bool(tracker.token)

    @admin.display(description="signing secret")
    def signing_secret(self, tracker: Tracker) -> str:
        return format_html(
            "<code>{}</code> (shown in full only when created or rotated)",
            trackers.mask(tracker.secret),
        )

    @admin.action(description="Rotate the signing secret of selected webhook trackers")
    def rotate_secret(self, request, queryset) -> None:
        for tracker in queryset:
            try:
                trackers.tracker_rotate_secret(actor=request.user, tracker=tracker)
            except DomainError as exc:
                self.message_user(request, f"{tracker.name}: {exc.message}", messages.WARNING)
                continue
            tracker.refresh_from_db()
            _show_secret_once(self, request, tracker)


def _show_secret_once(modeladmin, request, tracker: Tracker) -> None:
    modeladmin.message_user(
        request,
        f"{tracker.name}: signing secret (copy it now, it is not shown again): {tracker.secret}",
        messages.WARNING,
    )
