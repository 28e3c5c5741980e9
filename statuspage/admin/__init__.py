"""The status page in the Django admin. Every page saves through
``statuspage.services``, as the API and the dashboard do; a service's
``DomainError`` shows beside the field it names (``common``). Split by
topic; importing this package registers everything."""

from .components import ComponentAdmin, ComponentGroupAdmin, PageStateAdmin
from .incidents import PublicIncidentAdmin
from .maintenance import MaintenanceAdmin
from .subscribers import SubscriberAdmin

__all__ = [
    "ComponentAdmin",
    "ComponentGroupAdmin",
    "MaintenanceAdmin",
    "PageStateAdmin",
    "PublicIncidentAdmin",
    "SubscriberAdmin",
]
