"""Severity policies (stored by ``incidents.services.policies``, as the API's
are), services and the reference counter: data managers edit."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Q

from .. import services
from ..durations import duration
from ..models import NotifyChannel, ReferenceCounter, Service, Severity, SeverityPolicy, Status
from ..services.policies import SEVERITY_FIELDS
from .common import (
    ReadOnlyAdminMixin,
    ServiceAdminMixin,
    ServiceForm,
    service_rows,
)


class SeverityPolicyForm(ServiceForm):
    notify_channels = forms.MultipleChoiceField(
        choices=NotifyChannel.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = SeverityPolicy
        fields = ("severity", *SEVERITY_FIELDS)
        help_texts = {
            "ack_target_seconds": "Seconds from detection (300 = 5 min). Empty: no target.",
            "ack_next_business_day": "Acknowledge by the close of the next business day "
            "(the guide's P3) instead of a fixed target.",
            "resolve_target_seconds": "Seconds from detection (3600 = 1 h). Empty: no target.",
            "update_cadence_seconds": "Seconds between status updates (900 = 15 min). "
            "Empty: no cadence.",
        }


@admin.register(SeverityPolicy)
class SeverityPolicyAdmin(
    service_rows(
        "policy",
        create=services.severity_policy_create,
        update=services.severity_policy_update,
    ),
    ServiceAdminMixin,
    admin.ModelAdmin,
):
    form = SeverityPolicyForm
    list_display = (
        "severity",
        "name",
        "response_time",
        "acknowledge_within",
        "resolve_within",
        "update_every",
        "oncall",
        "channels",
        "updated_at",
    )
    list_display_links = ("severity", "name")
    list_filter = ("oncall", "oncall_required")
    search_fields = ("name", "response_time", "criteria", "examples")
    fieldsets = (
        (None, {"fields": ("severity", "name", "response_time")}),
        (
            "Targets",
            {
                "fields": (
                    "ack_target_seconds",
                    "ack_next_business_day",
                    "resolve_target_seconds",
                    "update_cadence_seconds",
                )
            },
        ),
        ("Notification & on-call", {"fields": ("notify_channels", "oncall", "oncall_required")}),
        ("From the guide", {"fields": ("criteria", "examples", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # The severity is the policy's identity; incidents and deadlines refer to it.
        return ("severity", "updated_at") if obj else ("updated_at",)

    def has_add_permission(self, request) -> bool:
        # Only to restore a missing policy: there is one per guide severity.
        return super().has_add_permission(request) and SeverityPolicy.objects.count() < len(
            Severity.values
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Without its policy a severity could no longer be declared.
        return False

    @admin.display(description="acknowledge within")
    def acknowledge_within(self, policy: SeverityPolicy) -> str:
        if policy.ack_next_business_day:
            return "next business day"
        return duration(policy.ack_target_seconds)

    @admin.display(description="resolve within")
    def resolve_within(self, policy: SeverityPolicy) -> str:
        return duration(policy.resolve_target_seconds)

    @admin.display(description="update every")
    def update_every(self, policy: SeverityPolicy) -> str:
        return duration(policy.update_cadence_seconds)

    @admin.display(description="notify")
    def channels(self, policy: SeverityPolicy) -> str:
        labels = dict(NotifyChannel.choices)
        return " + ".join(labels.get(c, c) for c in policy.notify_channels) or "—"


class ServiceAdminForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ("name", "description")

    def clean_name(self) -> str:
        # incidents.services stores service names lower-cased; "API" made here
        # would otherwise sit beside the "api" that alerts create.
        return self.cleaned_data["name"].strip().lower()


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = ("name", "description", "open_incidents", "incidents_total")
    search_fields = ("name", "description")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                incidents_total=Count("incidents", distinct=True),
                open_incidents=Count(
                    "incidents", filter=~Q(incidents__status=Status.RESOLVED), distinct=True
                ),
            )
        )

    @admin.display(description="open incidents", ordering="open_incidents")
    def open_incidents(self, service: Service) -> int:
        return service.open_incidents

    @admin.display(description="incidents", ordering="incidents_total")
    def incidents_total(self, service: Service) -> int:
        return service.incidents_total


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "last", "last_reference")
    date_hierarchy = "day"

    @admin.display(description="last reference")
    def last_reference(self, counter: ReferenceCounter) -> str:
        return f"INC-{counter.day:%Y%m%d}-{counter.last:03d}"
