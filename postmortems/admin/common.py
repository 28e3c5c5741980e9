"""How a post-mortems admin page saves: through the services, never the
form's own ``save()``, with a ``DomainError`` shown beside the field it
names — incidents' one mechanism (``incidents.admin.common``,
docs/architecture.md "One domain error"), which the apps share."""

from __future__ import annotations

from django.contrib import admin

from incidents.admin.common import ServiceAdminMixin, ServiceForm

__all__ = ["ServiceAdmin", "ServiceForm"]


class ServiceAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """A page whose rows services store: ``add_row(request, data)`` returns
    the new row, ``change_row(request, row, changes)`` gets the changed
    fields only, ``remove_row(request, row)`` deletes."""

    form = ServiceForm
