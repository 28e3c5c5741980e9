"""The audit log, read-only: managers filter it by object and by person."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from ..access import can_manage
from ..models import AuditEntry
from .common import ReadOnlyAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the services, in the transaction of each change; nobody
    edits or deletes it, superusers included. ``?object_type=schedule&object_id=3``
    is one object's history."""

    list_display = ("at", "who", "entry_point", "action", "object_type", "object_link", "change")
    list_filter = (
        "object_type",
        "entry_point",
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("object_repr", "object_id", "actor_name", "action")
    date_hierarchy = "at"

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # One object's history from a link: ?object_type=…&object_id=….
        return lookup in ("object_type", "object_id", "actor_name") or super().lookup_allowed(
            lookup, value, request
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.display(description="who", ordering="actor_name")
    def who(self, entry: AuditEntry) -> str:
        return entry.actor_name or "TreeBeard"

    @admin.display(description="object", ordering="object_repr")
    def object_link(self, entry: AuditEntry) -> str:
        return format_html(
            '<a href="?object_type={}&amp;object_id={}" title="This object\'s history">{}</a>',
            entry.object_type,
            entry.object_id,
            entry.object_repr,
        )

    @admin.display(description="change")
    def change(self, entry: AuditEntry) -> str:
        keys = sorted(set(entry.before or {}) | set(entry.after or {}))
        return ", ".join(keys) or "—"
