"""Escalation policies (the guide's technical and business paths) and the
levels copied onto each incident, read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count

from ..models import EscalationLevel, EscalationPolicy, IncidentEscalationStep
from .common import ReadOnlyAdminMixin


class EscalationLevelForm(forms.ModelForm):
    class Meta:
        model = EscalationLevel
        fields = (
            "level",
            "name",
            "starts_after_minutes",
            "critical_only",
            "schedule",
            "user",
            "group",
        )

    def clean(self):
        data = super().clean()
        if not (data.get("schedule") or data.get("user") or data.get("group")):
            raise forms.ValidationError(
                "A level pages someone: choose a schedule, a user or a group."
            )
        return data


class EscalationLevelInline(admin.TabularInline):
    model = EscalationLevel
    form = EscalationLevelForm
    extra = 0
    ordering = ("level",)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "path", "auto_severities", "level_count")
    inlines = [EscalationLevelInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(level_total=Count("levels"))

    @admin.display(description="levels", ordering="level_total")
    def level_count(self, policy: EscalationPolicy) -> int:
        return policy.level_total


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    form = EscalationLevelForm
    list_display = (
        "policy",
        "level",
        "name",
        "starts_after_minutes",
        "critical_only",
        "schedule",
        "user",
        "group",
    )
    list_filter = ("policy", "critical_only")
    list_select_related = ("policy", "schedule", "user", "group")
    fields = ("policy", *EscalationLevelForm.Meta.fields)


@admin.register(IncidentEscalationStep)
class IncidentEscalationStepAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Levels as copied onto each incident when declared; the engine fills
    ``reached_at`` and ``notified``. Read-only: it is the incident's record."""

    list_display = (
        "incident",
        "path",
        "level",
        "name",
        "starts_after_minutes",
        "critical_only",
        "reached_at",
        "notified_people",
    )
    list_filter = ("path", "level", ("reached_at", admin.EmptyFieldListFilter))
    list_select_related = ("incident", "schedule", "user", "group")
    search_fields = ("incident__ref", "name")

    @admin.display(description="notified")
    def notified_people(self, step: IncidentEscalationStep) -> str:
        return ", ".join(str(name) for name in step.notified or []) or "—"
