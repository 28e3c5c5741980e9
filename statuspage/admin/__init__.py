"""The status page in the Django admin. Every page saves through
``statuspage.services``, as the API and the dashboard do; a service's
``DomainError`` shows beside the field it names. Split by topic; importing
this package registers everything."""

from .maintenance import MaintenanceAdmin

__all__ = ["MaintenanceAdmin"]
