"""Components and component groups in the admin: saved through
statuspage.services (``component_*``, ``group_*``), like the API."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.db.models import Count

from incidents import clock

from .. import services
from ..models import Component, ComponentGroup, ComponentStatus, ComponentStatusChange, PageState
from .common import (
    OfferedChoiceField,
    ReadOnlyInline,
    ReadOnlyMixin,
    ServiceForm,
    ServiceModelAdmin,
    run_each,
)


class ComponentForm(ServiceForm):
    status = OfferedChoiceField(choices=ComponentStatus.choices)

    class Meta:
        model = Component
        fields = (
            "name",
            "description",
            "group",
            "status",
            "position",
            "showcase",
            "only_show_if_degraded",
            "start_date",
        )


def _set_status(status: str, label: str):
    def act(modeladmin, request, queryset):
        run_each(
            modeladmin,
            request,
            queryset,
            lambda c: services.component_set_status(actor=request.user, component=c, status=status),
            done=f"Set to {label.lower()}:",
        )

    act.__name__ = f"set_{status}"
    return admin.action(description=f"Set the selected components to “{label}”")(act)


HISTORY_DAYS = 30


class StatusChangeInline(ReadOnlyInline):
    """The component's latest status changes, read-only (the uptime history)."""

    model = ComponentStatusChange
    fields = ("at", "old_status", "new_status", "incident", "maintenance", "actor")
    readonly_fields = fields
    ordering = ("-at", "-id")
    verbose_name_plural = f"Status history (the last {HISTORY_DAYS} days)"

    def get_queryset(self, request):
        since = clock.now() - timedelta(days=HISTORY_DAYS)
        return super().get_queryset(request).filter(at__gte=since).select_related("actor")


@admin.register(Component)
class ComponentAdmin(ServiceModelAdmin):
    form = ComponentForm
    list_display = ("name", "status", "group", "position", "showcase", "updated_at")
    list_filter = ("status", "group", "showcase")
    list_select_related = ("group",)
    search_fields = ("name", "description", "code")
    readonly_fields = ("code", "created_at", "updated_at")
    inlines = [StatusChangeInline]
    actions = [
        _set_status(value, label)
        for value, label in ComponentStatus.choices
        if value != ComponentStatus.UNDER_MAINTENANCE
    ]

    def add_row(self, request, data: dict) -> Component:
        return services.component_create(actor=request.user, **data)

    def change_row(self, request, row: Component, changes: dict) -> None:
        services.component_update(actor=request.user, component=row, **changes)

    def remove_row(self, request, row: Component) -> None:
        services.component_delete(actor=request.user, component=row)


class GroupForm(ServiceForm):
    class Meta:
        model = ComponentGroup
        fields = ("name", "description", "position")


@admin.register(ComponentGroup)
class ComponentGroupAdmin(ServiceModelAdmin):
    form = GroupForm
    list_display = ("name", "position", "component_count", "updated_at")
    search_fields = ("name", "code")
    readonly_fields = ("code", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(component_count=Count("components"))

    @admin.display(description="Components", ordering="component_count")
    def component_count(self, obj) -> int:
        return obj.component_count

    def add_row(self, request, data: dict) -> ComponentGroup:
        return services.group_create(actor=request.user, **data)

    def change_row(self, request, row: ComponentGroup, changes: dict) -> None:
        services.group_update(actor=request.user, group=row, **changes)

    def remove_row(self, request, row: ComponentGroup) -> None:
        services.group_delete(actor=request.user, group=row)


@admin.register(PageState)
class PageStateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The version of everything public (bumped by every public change)."""

    list_display = ("version", "updated_at")
    fields = ("version", "updated_at")
    readonly_fields = fields


__all__ = ["ComponentAdmin", "ComponentForm", "ComponentGroupAdmin", "GroupForm", "PageStateAdmin"]
