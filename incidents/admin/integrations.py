"""API tokens, integrations and alerts: secrets shown once, alerts kept as received."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet

from .. import privileges
from ..models import Alert, AlertGroupKey, ApiToken, Integration, IntegrationKind, TokenScope
from ..services import integrations, tokens
from .common import AddFormMixin, ReadOnlyAdminMixin, ServiceAdminMixin, ServiceForm, run_each


def _with_secret(modeladmin, request, secret: str, what: str) -> None:
    # Only the hash is stored: this message is the one time the secret is shown.
    modeladmin.message_user(
        request, f"{what} Copy it now, it is not shown again: {secret}", messages.WARNING
    )


class ApiTokenAddForm(ServiceForm):
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ, TokenScope.WRITE],
    )

    class Meta:
        model = ApiToken
        fields = ("user", "name", "scopes")


@admin.register(ApiToken)
class ApiTokenAdmin(AddFormMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Tokens are created by ``tokens.api_token_create`` (key shown once),
    renamed and revoked, never otherwise edited: the key, its owner and
    scopes stay as issued."""

    form = ServiceForm
    add_form = ApiTokenAddForm
    list_display = (
        "prefix",
        "name",
        "user",
        "scope_list",
        "created_at",
        "last_used_at",
        "revoked_at",
        "active",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username", "user__email")
    date_hierarchy = "created_at"
    actions = ["revoke_selected"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name", "scopes")
        return ("prefix", "name", "user", "scopes", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("prefix", "user", "scopes", "created_at", "last_used_at", "revoked_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # The key is shown to whoever creates it: oneself, a service account,
            # anyone for a superuser (privileges.can_issue_token).
            kwargs["queryset"] = privileges.token_owners(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row says who had access when

    def add_row(self, request, data: dict) -> ApiToken:
        token, key = tokens.api_token_create(actor=request.user, **data)
        _with_secret(self, request, key, f"API token {token.prefix}… for {token.user}.")
        return token

    def change_row(self, request, token: ApiToken, changes: dict) -> None:
        # Only its name is offered: the key, its owner and scopes stay as issued.
        tokens.api_token_rename(
            actor=request.user, token=token, name=changes.get("name", token.name)
        )

    @admin.display(description="scopes")
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    @admin.display(boolean=True)
    def active(self, token: ApiToken) -> bool:
        return token.is_active

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset: QuerySet[ApiToken]) -> None:
        run_each(
            self,
            request,
            queryset,
            lambda token: tokens.api_token_revoke(actor=request.user, token=token),
            done="Revoked",
            label=lambda token: f"{token.prefix}…",
        )


class IntegrationForm(ServiceForm):
    class Meta:
        model = Integration
        # What a manager sets is what the service audits (never the token).
        fields = integrations.INTEGRATION_FIELDS


def _by_service_name(data: dict) -> dict:
    """The form's values as the service takes them: the default service by name."""
    if "default_service" not in data:
        return data
    service = data["default_service"]
    return {**data, "default_service": service.name if service else None}


def _endpoints(integration: Integration, key: str) -> str:
    base = settings.SITE_URL
    if integration.kind == IntegrationKind.PAGERDUTY:
        return f"routing key {key} for {base}/v2/enqueue"
    return f"{base}/api/v1/integrations/{key}/{integration.kind}/"


@admin.register(Integration)
class IntegrationAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Monitoring tools that send alerts. The secret token is created (and
    rotated) by ``incidents.services.integrations`` and shown once; it is
    stored hashed. The service's rules show beside the fields."""

    form = IntegrationForm
    list_display = (
        "name",
        "kind",
        "token_prefix",
        "default_service",
        "enabled",
        "auto_acknowledge",
        "auto_resolve",
        "last_alert_at",
        "created_by",
    )
    list_filter = ("kind", "enabled", "auto_acknowledge", "auto_resolve")
    list_select_related = ("default_service", "created_by")
    search_fields = ("name", "token_prefix")
    actions = ["rotate_token"]

    def get_readonly_fields(self, request, obj=None):
        base = ("token_prefix", "created_by", "created_at", "last_alert_at")
        # The kind is part of the URL the tool was configured with.
        return ("kind", *base) if obj else base

    def add_row(self, request, data: dict) -> Integration:
        integration, key = integrations.integration_create(
            actor=request.user, **_by_service_name(data)
        )
        _with_secret(
            self,
            request,
            _endpoints(integration, key),
            f"Integration {integration.name}: send alerts to the URL below.",
        )
        return integration

    def change_row(self, request, integration: Integration, changes: dict) -> None:
        integrations.integration_update(
            actor=request.user, integration=integration, **_by_service_name(changes)
        )

    # Django's delete page already refuses an integration its alerts PROTECT
    # ("would require deleting … protected objects"); the service says why too.
    def remove_row(self, request, integration: Integration) -> None:
        integrations.integration_delete(actor=request.user, integration=integration)

    @admin.action(description="Rotate the secret token of selected", permissions=["change"])
    def rotate_token(self, request, queryset: QuerySet[Integration]) -> None:
        for integration in queryset:
            key = integrations.integration_rotate_token(actor=request.user, integration=integration)
            _with_secret(
                self,
                request,
                _endpoints(integration, key),
                f"New token for {integration.name}; the old one no longer works.",
            )


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Alerts as received: evidence, never edited."""

    list_display = (
        "received_at",
        "integration",
        "status",
        "title",
        "source_severity",
        "severity",
        "incident",
        "action",
    )
    list_filter = ("kind", "status", "action", "severity", "integration")
    list_select_related = ("integration", "incident")
    search_fields = ("title", "fingerprint", "service", "incident__ref")
    date_hierarchy = "received_at"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(AlertGroupKey)
class AlertGroupKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which open incident alerts with a fingerprint join (kept by alert routing)."""

    list_display = ("fingerprint", "integration", "incident")
    list_filter = ("integration",)
    list_select_related = ("integration", "incident")
    search_fields = ("fingerprint", "incident__ref")
