"""Roles, updates, deadlines and the timeline: records the services keep."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet

from .. import services
from ..durations import duration
from ..models import Deadline, RoleAssignment, StatusUpdate, TimelineEvent, TimelineMark
from .common import ReadOnlyAdminMixin, RespondPermissionMixin, run_each, shorten


class ActiveFilter(admin.SimpleListFilter):
    title = "active"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", "Active"), ("no", "Relieved"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(relieved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(relieved_at__isnull=False)
        return queryset


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(RespondPermissionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """History of who held which role; assign on the incident's page."""

    list_display = (
        "incident",
        "role",
        "user",
        "assigned_at",
        "assigned_by",
        "relieved_at",
        "active",
    )
    list_filter = ("role", ActiveFilter)
    list_select_related = ("incident", "user", "assigned_by")
    search_fields = ("incident__ref", "incident__title", "user__username", "user__email")
    date_hierarchy = "assigned_at"
    actions = ["relieve_selected"]

    @admin.display(boolean=True)
    def active(self, assignment: RoleAssignment) -> bool:
        return assignment.relieved_at is None

    @admin.action(description="Relieve selected people of their role", permissions=["respond"])
    def relieve_selected(self, request, queryset: QuerySet[RoleAssignment]) -> None:
        run_each(
            self,
            request,
            queryset.select_related("incident", "user"),
            lambda a: services.incident_relieve_role(
                incident=a.incident, actor=request.user, role=a.role, user=a.user
            ),
            done="Relieved",
            label=lambda a: (
                f"{a.incident.ref} {a.get_role_display().lower()} {a.user.get_username()}"
            ),
        )


@admin.register(StatusUpdate)
class StatusUpdateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Posted updates; post new ones on the incident's page."""

    list_display = ("incident", "posted_at", "status", "visibility", "author", "excerpt")
    list_filter = ("visibility", "status")
    list_select_related = ("incident", "author")
    search_fields = ("incident__ref", "incident__title", "message")
    date_hierarchy = "posted_at"

    @admin.display(description="message")
    def excerpt(self, update: StatusUpdate) -> str:
        return shorten(update.message)


class DeadlineStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("pending", "Pending"),
            ("met", "Met"),
            ("cancelled", "Cancelled"),
            ("fired", "Fired"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == "pending":
            return queryset.pending()
        if value in ("met", "cancelled", "fired"):
            return queryset.filter(**{f"{value}_at__isnull": False})
        return queryset


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Set, met and cancelled by the services only, so metrics can trust them."""

    list_display = ("incident", "kind", "severity", "target", "due_at", "state", "breached")
    list_filter = ("kind", "severity", DeadlineStateFilter)
    list_select_related = ("incident",)
    search_fields = ("incident__ref", "incident__title")
    date_hierarchy = "due_at"

    @admin.display(description="target")
    def target(self, deadline: Deadline) -> str:
        return duration(deadline.target_seconds)

    @admin.display(description="state")
    def state(self, deadline: Deadline) -> str:
        if deadline.met_at:
            return f"met {deadline.met_at:%Y-%m-%d %H:%M}"
        if deadline.cancelled_at:
            return f"cancelled {deadline.cancelled_at:%Y-%m-%d %H:%M}"
        if deadline.fired_at:
            return f"fired {deadline.fired_at:%Y-%m-%d %H:%M}"
        return "pending"

    @admin.display(boolean=True, description="breached")
    def breached(self, deadline: Deadline) -> bool:
        return deadline.breached


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only record: nobody adds, edits or deletes events here."""

    list_display = ("at", "incident", "kind", "who", "excerpt")
    list_filter = ("kind",)
    list_select_related = ("incident", "actor")
    search_fields = ("incident__ref", "incident__title", "message")
    date_hierarchy = "at"

    @admin.display(description="actor", ordering="actor__username")
    def who(self, event: TimelineEvent) -> str:
        return event.actor_name

    @admin.display(description="message")
    def excerpt(self, event: TimelineEvent) -> str:
        return shorten(event.message)


@admin.register(TimelineMark)
class TimelineMarkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Key moments responders marked on timelines (marked on the incident page)."""

    list_display = ("marked_at", "kind", "event", "marked_by")
    list_filter = ("kind",)
    list_select_related = ("event__incident", "marked_by")
