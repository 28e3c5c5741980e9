"""Incidents in the admin: every change through incidents.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .. import access, services
from ..models import Deadline, Incident, RoleAssignment, Status, StatusUpdate, TimelineEvent
from .common import (
    AddFormMixin,
    ReadOnlyAdminMixin,
    RespondPermissionMixin,
    ServiceAdminMixin,
    ServiceForm,
    ServiceRowsInline,
    run_each,
)

FALSE_POSITIVE_ROOT_CAUSE = "False positive (bulk-resolved from admin)"


class NewRowsInline(ServiceRowsInline):
    """Adds rows through an incident service (``add_row``); the rows already
    there are shown by a read-only twin, since only a service changes them."""

    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return (
            obj is not None
            and access.can_respond(request.user)
            and super().has_add_permission(request, obj)
        )


class RoleHistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RoleAssignment
    verbose_name = "role assignment"
    verbose_name_plural = "Roles (history; hand-overs relieve the previous holder)"
    fields = ("role", "user", "assigned_at", "assigned_by", "relieved_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "assigned_by")


class AssignRoleForm(ServiceForm):
    class Meta:
        model = RoleAssignment
        fields = ("role", "user")


class AssignRoleInline(NewRowsInline, admin.TabularInline):
    model = RoleAssignment
    form = AssignRoleForm
    verbose_name = "role to assign"
    verbose_name_plural = "Assign a role (a new commander or communications lead takes over)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def add_row(self, request, data: dict) -> RoleAssignment:
        incident, role, user = data["incident"], data["role"], data["user"]
        services.incident_assign_role(incident=incident, actor=request.user, role=role, user=user)
        return RoleAssignment.objects.get(
            incident=incident, role=role, user=user, relieved_at__isnull=True
        )


class StatusUpdateHistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatusUpdate
    verbose_name_plural = "Status updates"
    fields = ("posted_at", "status", "visibility", "author", "message")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class PostUpdateForm(ServiceForm):
    class Meta:
        model = StatusUpdate
        fields = ("message", "status", "visibility")
        widgets = {"message": forms.Textarea(attrs={"rows": 3, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        status.required = False
        status.help_text = "Empty keeps the current status. Resolve with the resolve action."
        status.choices = [(v, label) for v, label in status.choices if v != Status.RESOLVED]


class PostUpdateInline(NewRowsInline, admin.StackedInline):
    model = StatusUpdate
    form = PostUpdateForm
    verbose_name = "status update to post"
    verbose_name_plural = "Post a status update"

    def add_row(self, request, data: dict) -> StatusUpdate:
        return services.incident_post_update(
            incident=data["incident"],
            actor=request.user,
            message=data["message"],
            status=data.get("status") or None,
            visibility=data["visibility"],
        )


class TimelineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TimelineEvent
    verbose_name_plural = "Timeline (append-only)"
    fields = ("at", "kind", "actor", "message", "before", "after")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class DeadlineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Deadline
    verbose_name_plural = "Deadlines"
    fields = (
        "kind",
        "severity",
        "level",
        "starts_at",
        "due_at",
        "met_at",
        "cancelled_at",
        "fired_at",
    )
    readonly_fields = fields
    extra = 0


# --- incidents ----------------------------------------------------------------


# What a declaration says (the add form's first section), then its description.
DECLARED = ("title", "severity", "source", "is_drill", "customer_impacting", "detected_at")
DESCRIBED = ("services", "summary", "impact")


class IncidentAddForm(ServiceForm):
    """What ``incident_declare`` takes; the service checks it (the detection
    time too) and does the rest."""

    commander = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        help_text="Optional: the incident commander from the start.",
    )

    class Meta:
        model = Incident
        fields = (*DECLARED, *DESCRIBED)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["detected_at"].required = False
        self.fields["detected_at"].help_text = "Empty: now."


# The change form's "Times" and "Resolution" sections: set by services only.
TIMES = (
    "detected_at",
    "declared_at",
    "declared_by",
    "acknowledged_at",
    "identified_at",
    "mitigated_at",
    "resolved_at",
)
RESOLUTION = ("root_cause", "resolution", "false_positive", "reopen_count")
# Shown on the change form, not edited there: each changes through a service
# action (acknowledge, resolve, …) so that it lands on the timeline. The form
# edits the rest, ``incident_update_fields``'s EDITABLE_FIELDS.
INCIDENT_READONLY = (
    "ref",
    "severity",
    "status",
    "source",
    "is_drill",
    "escalation_level",
    *TIMES,
    *RESOLUTION,
    "alert_count",
)


@admin.register(Incident)
class IncidentAdmin(RespondPermissionMixin, AddFormMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = ServiceForm
    add_form = IncidentAddForm
    list_display = (
        "ref",
        "title",
        "severity",
        "status",
        "acknowledged",
        "commander",
        "detected_at",
        "resolved_at",
        "source",
        "is_drill",
    )
    list_display_links = ("ref", "title")
    list_filter = (
        "severity",
        "status",
        ("acknowledged_at", admin.EmptyFieldListFilter),
        "source",
        "is_drill",
        "customer_impacting",
        "false_positive",
        "services",
    )
    search_fields = ("ref", "title", "summary", "impact", "root_cause")
    date_hierarchy = "detected_at"
    filter_horizontal = ("services",)
    list_per_page = 50
    actions = ["acknowledge_selected", "resolve_as_false_positive"]

    def get_queryset(self, request):
        # ``Incident.commander`` reads the prefetched active assignments.
        return super().get_queryset(request).with_people()

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": (*DECLARED, "commander")}),
                ("Description", {"fields": DESCRIBED}),
            )
        return (
            (
                None,
                {
                    "fields": (
                        "ref",
                        "title",
                        "severity",
                        "status",
                        "escalation_level",
                        "source",
                        "is_drill",
                        "alert_count",
                        "customer_impacting",
                        "services",
                    )
                },
            ),
            ("Description", {"fields": ("summary", "impact")}),
            ("Times", {"fields": TIMES}),
            ("Resolution", {"fields": RESOLUTION}),
        )

    def get_readonly_fields(self, request, obj=None):
        return INCIDENT_READONLY if obj else ()

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        if not obj.is_open:
            # A resolved incident takes no roles or updates until it is reopened.
            return [RoleHistoryInline, StatusUpdateHistoryInline, DeadlineInline, TimelineInline]
        return [
            RoleHistoryInline,
            AssignRoleInline,
            StatusUpdateHistoryInline,
            PostUpdateInline,
            DeadlineInline,
            TimelineInline,
        ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Incidents are records: resolve (or mark false positive), never delete.
        return False

    @admin.display(boolean=True, description="ack", ordering="acknowledged_at")
    def acknowledged(self, incident: Incident) -> bool:
        return incident.is_acknowledged

    @admin.display(description="commander")
    def commander(self, incident: Incident) -> str:
        user = incident.commander
        return user.get_username() if user else "—"

    # -- saving through the services (ServiceAdminMixin) --

    def add_row(self, request, data: dict) -> Incident:
        return services.incident_declare(
            actor=request.user,
            title=data["title"],
            severity=data["severity"],
            source=data["source"],
            is_drill=data["is_drill"],
            customer_impacting=data["customer_impacting"],
            detected_at=data["detected_at"],
            services=[service.name for service in data["services"]],
            summary=data["summary"],
            impact=data["impact"],
            commander=data["commander"],
        )

    def change_row(self, request, incident: Incident, changes: dict) -> None:
        if "services" in changes:
            changes["services"] = [service.name for service in changes["services"]]
        services.incident_update_fields(incident=incident, actor=request.user, **changes)

    # -- bulk actions --

    def for_each_incident(self, request, queryset: QuerySet[Incident], call, *, done: str) -> None:
        """A bulk action: ``call(incident)`` in the order they were detected,
        each named by its reference in the messages (``run_each``)."""
        run_each(
            self,
            request,
            queryset.order_by("detected_at", "pk"),
            call,
            done=done,
            label=lambda incident: incident.ref,
        )

    @admin.action(description="Acknowledge selected", permissions=["respond"])
    def acknowledge_selected(self, request, queryset: QuerySet[Incident]) -> None:
        self.for_each_incident(
            request,
            queryset,
            lambda incident: services.incident_acknowledge(incident=incident, actor=request.user),
            done="Acknowledged",
        )

    @admin.action(description="Resolve selected as false positive", permissions=["respond"])
    def resolve_as_false_positive(self, request, queryset: QuerySet[Incident]) -> None:
        self.for_each_incident(
            request,
            queryset,
            lambda incident: services.incident_resolve(
                incident=incident,
                actor=request.user,
                root_cause=FALSE_POSITIVE_ROOT_CAUSE,
                false_positive=True,
            ),
            done="Resolved as false positive",
        )
