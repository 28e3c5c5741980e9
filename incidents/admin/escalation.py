"""Escalation policies (the guide's technical and business paths) with their
levels, stored by ``incidents.services.policies``; and the levels copied onto
each incident, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from .. import services
from ..models import EscalationLevel, EscalationPolicy, IncidentEscalationStep
from ..services.policies import ESCALATION_FIELDS, LEVEL_FIELDS
from .common import (
    ReadOnlyAdminMixin,
    ServiceAdminMixin,
    ServiceForm,
    ServiceRowsInline,
    service_rows,
)


class EscalationLevelForm(ServiceForm):
    class Meta:
        model = EscalationLevel
        fields = LEVEL_FIELDS


# The service calls the levels' page and the policy's inline share.
EscalationLevelRows = service_rows(
    "escalation_level",
    create=services.escalation_level_create,
    update=services.escalation_level_update,
    delete=services.escalation_level_delete,
)


class EscalationLevelInline(EscalationLevelRows, ServiceRowsInline, admin.TabularInline):
    model = EscalationLevel
    form = EscalationLevelForm
    extra = 0
    ordering = ("level",)


class EscalationPolicyForm(ServiceForm):
    class Meta:
        model = EscalationPolicy
        fields = ESCALATION_FIELDS
        help_texts = {
            "auto_severities": 'Severities that climb by the clock, e.g. ["P0", "P1"]; '
            "the others are escalated by hand. Incidents already declared keep theirs."
        }


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(
    service_rows(
        "policy",
        create=services.escalation_policy_create,
        update=services.escalation_policy_update,
        delete=services.escalation_policy_delete,
    ),
    ServiceAdminMixin,
    admin.ModelAdmin,
):
    form = EscalationPolicyForm
    list_display = ("name", "path", "auto_severities", "level_count")
    inlines = [EscalationLevelInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(level_total=Count("levels"))

    @admin.display(description="levels", ordering="level_total")
    def level_count(self, policy: EscalationPolicy) -> int:
        return policy.level_total


class EscalationLevelAdminForm(ServiceForm):
    class Meta:
        model = EscalationLevel
        fields = ("policy", *LEVEL_FIELDS)


@admin.register(EscalationLevel)
class EscalationLevelAdmin(EscalationLevelRows, ServiceAdminMixin, admin.ModelAdmin):
    form = EscalationLevelAdminForm
    list_display = ("policy", *LEVEL_FIELDS)
    list_filter = ("policy", "critical_only")
    list_select_related = ("policy", "schedule", "user", "group")
    fields = EscalationLevelAdminForm.Meta.fields


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
