"""API tokens, integrations and alerts: secrets shown once, alerts kept as received."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpResponseRedirect

from .. import privileges
from ..errors import DomainError
from ..models import Alert, AlertGroupKey, ApiToken, Integration, IntegrationKind, TokenScope
from ..services import integrations, tokens
from .common import ReadOnlyAdminMixin


def _with_secret(modeladmin, request, obj, secret: str, what: str) -> None:
    # Only the hash is stored: this message is the one time the secret is shown.
    modeladmin.message_user(
        request, f"{what} Copy it now, it is not shown again: {secret}", messages.WARNING
    )


class ApiTokenAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ, TokenScope.WRITE],
    )

    class Meta:
        model = ApiToken
        fields = ("user", "name", "scopes")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by ``tokens.api_token_create`` (key shown once) and
    revoked, never edited: the key, its owner and scopes stay as issued."""

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

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj: ApiToken, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        data = form.cleaned_data
        created, key = tokens.api_token_create(
            actor=request.user, user=data["user"], name=data.get("name", ""), scopes=data["scopes"]
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        _with_secret(self, request, obj, key, f"API token {obj.prefix}… for {obj.user}.")

    @admin.display(description="scopes")
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    @admin.display(boolean=True)
    def active(self, token: ApiToken) -> bool:
        return token.is_active

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            tokens.api_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = (
            "name",
            "kind",
            "default_service",
            "severity_mapping",
            "auto_acknowledge",
            "auto_resolve",
            "enabled",
            "rate_limit_per_minute",
        )

    def clean_rate_limit_per_minute(self):
        try:
            return integrations._check_rate_limit(self.cleaned_data.get("rate_limit_per_minute"))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_severity_mapping(self):
        # The same rule the API applies (incidents.services.integrations), as a form error.
        try:
            return integrations._check_mapping(self.cleaned_data.get("severity_mapping"))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


def _endpoints(integration: Integration, key: str) -> str:
    base = settings.SITE_URL
    if integration.kind == IntegrationKind.PAGERDUTY:
        return f"routing key {key} for {base}/v2/enqueue"
    return f"{base}/api/v1/integrations/{key}/{integration.kind}/"


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    """Monitoring tools that send alerts. The secret token is created (and
    rotated) by ``incidents.services.integrations`` and shown once; it is stored hashed."""

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

    def save_model(self, request, obj: Integration, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            service = data.get("default_service")
            integrations.integration_update(
                actor=request.user,
                integration=Integration.objects.get(pk=obj.pk),
                **{f: data[f] for f in form.changed_data if f != "default_service"},
                **(
                    {"default_service": service.name if service else None}
                    if "default_service" in form.changed_data
                    else {}
                ),
            )
            obj.refresh_from_db()
            return
        service = data.get("default_service")
        created, key = integrations.integration_create(
            actor=request.user,
            name=data["name"],
            kind=data["kind"],
            default_service=service.name if service else None,
            severity_mapping=data.get("severity_mapping"),
            auto_acknowledge=data.get("auto_acknowledge", True),
            auto_resolve=data.get("auto_resolve", True),
            enabled=data.get("enabled", True),
            rate_limit_per_minute=data.get("rate_limit_per_minute") or 1200,
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        _with_secret(
            self,
            request,
            obj,
            _endpoints(obj, key),
            f"Integration {obj.name}: send alerts to the URL below.",
        )

    # Django's delete page already refuses an integration its alerts PROTECT
    # ("would require deleting … protected objects"); the service says why too.
    def delete_model(self, request, obj: Integration) -> None:
        integrations.integration_delete(actor=request.user, integration=obj)

    def delete_queryset(self, request, queryset: QuerySet[Integration]) -> None:
        for integration in queryset:
            integrations.integration_delete(actor=request.user, integration=integration)

    @admin.action(description="Rotate the secret token of selected", permissions=["change"])
    def rotate_token(self, request, queryset: QuerySet[Integration]) -> None:
        for integration in queryset:
            key = integrations.integration_rotate_token(actor=request.user, integration=integration)
            _with_secret(
                self,
                request,
                integration,
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
