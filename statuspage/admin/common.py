"""How the status page's admin pages save: through the services, as the API
and the dashboard do, with incidents' one mechanism (``incidents.admin.common``:
forms check shapes only, ``add_row`` / ``change_row`` / ``remove_row`` call
the services, a ``DomainError`` is shown beside the field it names).
Only managers see these pages (statuspage/access.py).
"""

from __future__ import annotations

from django.contrib import admin

from incidents.admin.common import (
    OfferedChoiceField,
    ServiceAdminMixin,
    ServiceForm,
    changes_of,
    run_each,
)

from ..access import can_manage

__all__ = [
    "ManagersOnlyMixin",
    "OfferedChoiceField",
    "ReadOnlyInline",
    "ReadOnlyMixin",
    "ServiceForm",
    "ServiceModelAdmin",
    "changes_of",
    "run_each",
]


class ManagersOnlyMixin:
    """Only managers see and change the status page's admin pages."""

    def has_module_permission(self, request) -> bool:
        return can_manage(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)


class ReadOnlyMixin(ManagersOnlyMixin):
    """Managers look; nobody adds, changes or deletes here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on their parent's page (to managers), never edited there."""

    extra = 0
    max_num = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceModelAdmin(ManagersOnlyMixin, ServiceAdminMixin, admin.ModelAdmin):
    """A managers' page whose rows the status page's services store."""

    form = ServiceForm
