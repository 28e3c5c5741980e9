"""Public incidents in the admin: published from here too (an internal
incident's reference, a public title, impact and first message, through
``incident_publish``), renamed or given another impact through
``public_incident_update``; their public updates shown read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from incidents.models import Incident

from .. import services
from ..models import Impact, PublicIncident, PublicUpdate
from .common import OfferedChoiceField, ReadOnlyInline, ServiceForm, ServiceModelAdmin


class PublishForm(ServiceForm):
    """Publishing: the internal incident by its reference (INC-…)."""

    incident = forms.CharField(
        label="Internal incident", max_length=40, help_text="Its reference, e.g. INC-20261128-001."
    )
    title = forms.CharField(label="Public title", strip=False)
    impact = OfferedChoiceField(choices=Impact.choices, initial=Impact.MINOR)
    message = forms.CharField(label="First public update", widget=forms.Textarea, strip=False)

    class Meta:
        model = PublicIncident
        fields = ()

    def clean_incident(self) -> Incident:
        ref = self.cleaned_data["incident"].strip().upper()
        incident = Incident.objects.filter(ref=ref).first()
        if incident is None:
            raise forms.ValidationError(f"No incident {ref} exists.")
        return incident


class PublicIncidentForm(ServiceForm):
    impact = OfferedChoiceField(choices=Impact.choices)

    class Meta:
        model = PublicIncident
        fields = ("name", "impact")


class PublicUpdateInline(ReadOnlyInline):
    model = PublicUpdate
    fk_name = "incident"
    fields = ("display_at", "status", "body", "affected_components", "author")
    readonly_fields = fields


@admin.register(PublicIncident)
class PublicIncidentAdmin(ServiceModelAdmin):
    form = PublicIncidentForm
    list_display = ("name", "status", "impact", "started_at", "resolved_at", "code")
    list_filter = ("status", "impact")
    search_fields = ("name", "code")
    date_hierarchy = "started_at"
    readonly_fields = (
        "code",
        "status",
        "started_at",
        "monitoring_at",
        "resolved_at",
        "created_at",
        "updated_at",
        "published_by",
        "component_list",
    )
    inlines = [PublicUpdateInline]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PublishForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("incident", "title", "impact", "message")
        return ("name", "impact", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="Components")
    def component_list(self, obj) -> str:
        return ", ".join(f"{c.name} ({c.get_status_display()})" for c in obj.components.all())

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # what was said publicly stays said

    def add_row(self, request, data: dict) -> PublicIncident:
        return services.incident_publish(
            actor=request.user,
            incident=data["incident"],
            title=data["title"],
            impact=data["impact"],
            message=data["message"],
        )

    def change_row(self, request, row: PublicIncident, changes: dict) -> None:
        services.public_incident_update(actor=request.user, public_incident=row, **changes)


__all__ = ["PublicIncidentAdmin", "PublicIncidentForm", "PublishForm"]
