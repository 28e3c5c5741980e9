"""The status page's admin pages (managers only); importing this package
registers them. Each saves through statuspage.services (``common``)."""

from .components import ComponentAdmin, ComponentGroupAdmin, PageStateAdmin
from .incidents import PublicIncidentAdmin

__all__ = ["ComponentAdmin", "ComponentGroupAdmin", "PageStateAdmin", "PublicIncidentAdmin"]
