"""Notification channels (edited by managers), and the outbox of deliveries
and the recorded SLA breaches (read-only evidence)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from ..durations import duration
from ..errors import DomainError
from ..models import Channel, ChannelKind, Notification, Severity, SlaBreach
from ..notify.channels import mask_secret, mask_target
from ..notify.errors import TransportError
from ..people import display_name
from ..services import channels
from .common import (
    ReadOnlyAdminMixin,
    ServiceAdminMixin,
    ServiceForm,
    run_each,
    shorten,
)


class ChannelForm(ServiceForm):
    severities = forms.MultipleChoiceField(
        choices=Severity.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked = the guide's routing for the kind: Slack P0-P2, email P1 "
        "and the P3 digest, PagerDuty P0, webhook all.",
    )
    # Write-only: the stored secret is never rendered back into the form.
    new_secret = forms.CharField(
        label="New signing secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave blank to keep the current secret. Type 32-64 characters to "
        "replace it, or use the list's rotate action for a random one.",
    )

    class Meta:
        model = Channel
        fields = ("name", "kind", "target", "severities", "enabled")
        help_texts = {
            "target": "Slack incoming-webhook URL (https://hooks.slack.com/services/…), "
            "email address, PagerDuty routing key (32 characters) or webhook URL. "
            "Private and loopback addresses are refused unless NOTIFY_ALLOWED_NETWORKS "
            "names them.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.kind != ChannelKind.WEBHOOK:
            del self.fields["new_secret"]  # only webhooks sign their requests


@admin.register(Channel)
class ChannelAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Where notifications go. The kind is fixed once created (the target
    means something else for another kind). A webhook's signing secret is
    shown once, in the message after creating (or rotating) it, and masked
    afterwards, as in the API; typing a new one on the change form replaces it.
    The rules are ``incidents.services.channels``'s, shown beside the fields."""

    form = ChannelForm
    list_display = (
        "name",
        "kind",
        "masked_target",
        "severity_list",
        "enabled",
        "error_short",
        "last_error_at",
    )
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    actions = ["send_test", "rotate_secret"]

    def get_fields(self, request, obj=None):
        base = ("name", "kind", "target", "severities", "enabled")
        if obj is None:
            return base
        secret = ("signing_secret", "new_secret") if obj.kind == ChannelKind.WEBHOOK else ()
        return (*base, *secret, "created_at", "last_error", "last_error_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("kind", "signing_secret", "created_at", "last_error", "last_error_at")

    # A typed secret is replaced by stars in error reports (Django's filter).
    @method_decorator(sensitive_post_parameters("new_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def add_row(self, request, data: dict) -> Channel:
        channel = channels.channel_create(
            actor=request.user,
            name=data["name"],
            kind=data["kind"],
            target=data["target"],
            # None ticked: the guide's routing for the kind.
            severities=data["severities"] or None,
            enabled=data["enabled"],
        )
        if channel.kind == ChannelKind.WEBHOOK:
            _show_secret_once(self, request, channel)
        return channel

    def change_row(self, request, channel: Channel, changes: dict) -> None:
        if changes.get("severities") == []:
            changes["severities"] = None  # none ticked: the guide's routing, as when added
        channels.channel_update(actor=request.user, channel=channel, **changes)
        if "new_secret" in changes:
            self.message_user(
                request,
                f"{channel.name}: signing secret replaced ({mask_secret(channel.secret)}); "
                "deliveries from now on are signed with it.",
                messages.SUCCESS,
            )

    def remove_row(self, request, channel: Channel) -> None:
        channels.channel_delete(actor=request.user, channel=channel)

    @admin.display(description="target")
    def masked_target(self, channel: Channel) -> str:
        return mask_target(channel.kind, channel.target)

    @admin.display(description="severities")
    def severity_list(self, channel: Channel) -> str:
        return ", ".join(channel.severities or [])

    @admin.display(description="last error")
    def error_short(self, channel: Channel) -> str:
        return shorten(channel.last_error, 60) if channel.last_error else ""

    @admin.display(description="signing secret")
    def signing_secret(self, channel: Channel) -> str:
        if channel.kind != ChannelKind.WEBHOOK:
            return "— (only webhook channels sign their requests)"
        return format_html(
            "<code>{}</code> (shown in full only when created or rotated)<br><small>"
            "Receivers check <code>X-TreeBeard-Signature: "
            "sha256=HMAC-SHA256(secret, raw body)</code> and that "
            "<code>X-TreeBeard-Timestamp</code> (also in the signed body) is within 5 "
            "minutes. Treat it like a password; rotate it with the list's action if it "
            "leaks.</small>",
            mask_secret(channel.secret),
        )

    @admin.action(description="Send a test notification")
    def send_test(self, request, queryset: QuerySet[Channel]) -> None:
        sender = display_name(request.user)
        for channel in queryset[:10]:
            try:
                outcome = channels.channel_test(actor=request.user, channel=channel, sender=sender)
            except (TransportError, DomainError) as exc:
                self.message_user(
                    request, f"{channel.name}: test failed: {exc.message}", messages.ERROR
                )
                continue
            self.message_user(
                request, f"{channel.name}: test {outcome['ref']} delivered.", messages.SUCCESS
            )

    @admin.action(
        description="Rotate the signing secret of selected webhooks", permissions=["change"]
    )
    def rotate_secret(self, request, queryset: QuerySet[Channel]) -> None:
        def rotate(channel: Channel) -> None:
            channels.channel_rotate_secret(actor=request.user, channel=channel)
            _show_secret_once(self, request, channel)

        run_each(self, request, queryset, rotate, done="Rotated", label=lambda c: c.name)


def _show_secret_once(modeladmin, request, channel: Channel) -> None:
    # The one time the secret is shown in full (as the API's create and
    # rotate-secret answers): every page after this masks it.
    modeladmin.message_user(
        request,
        f"{channel.name}: signing secret (update the receiver; copy it now, it is not "
        f"shown again): {channel.secret}",
        messages.WARNING,
    )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox: every message to every destination and how it went.
    Targets are masked (webhook URLs are secrets)."""

    list_display = (
        "created_at",
        "incident",
        "message_kind",
        "transport",
        "destination",
        "status",
        "attempts",
        "last_status_code",
        "delivered_at",
        "error_short",
    )
    list_filter = ("status", "transport", "message_kind")
    list_select_related = ("incident", "channel", "recipient")
    search_fields = ("incident__ref",)
    date_hierarchy = "created_at"
    # The context carries the recipient's one-click acknowledge link, a key
    # that acts as them: nobody needs it here, so it is masked for everyone.
    exclude = ("target", "context")
    readonly_fields = ("destination", "message_context")

    @admin.display(description="destination")
    def destination(self, notification: Notification) -> str:
        who = notification.channel or notification.recipient
        target = mask_target(notification.transport, notification.target)
        return f"{who} → {target}" if who else target

    @admin.display(description="context")
    def message_context(self, notification: Notification) -> str:
        context = dict(notification.context or {})
        if context.get("ack_url"):
            context["ack_url"] = "(hidden: it acknowledges as the recipient)"
        return json.dumps(context, indent=2, sort_keys=True, default=str)

    @admin.display(description="error")
    def error_short(self, notification: Notification) -> str:
        return shorten(notification.last_error, 60) if notification.last_error else ""


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Promises of the guide that were missed, for the metrics."""

    list_display = (
        "incident",
        "kind",
        "severity",
        "target",
        "due_at",
        "detected_at",
        "met_at",
        "late_by",
    )
    list_filter = ("kind", "severity")
    list_select_related = ("incident",)
    search_fields = ("incident__ref",)
    date_hierarchy = "due_at"

    @admin.display(description="target")
    def target(self, breach: SlaBreach) -> str:
        return duration(breach.target_seconds)

    @admin.display(description="kept late by")
    def late_by(self, breach: SlaBreach) -> str:
        late = breach.late_by_seconds
        return "not yet kept" if late is None else duration(late)
