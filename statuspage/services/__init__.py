"""The status page's changes, one function each (docs/architecture.md):
callers write ``services.incident_publish(...)``."""

from .components import (
    apply_statuses,
    component_create,
    component_delete,
    component_set_status,
    component_update,
    group_create,
    group_delete,
    group_update,
    parse_component_statuses,
)
from .incidents import (
    StatusPagePublisher,
    incident_publish,
    public_incident_update,
    public_postmortem_attach,
    public_update_post,
)
from .maintenance import (
    components_by_code,
    maintenance_delete,
    maintenance_post_update,
    maintenance_schedule,
    maintenance_update,
)
from .page import page_changed
from .subscribers import (
    subscriber_add,
    subscriber_confirm,
    subscriber_delete,
    subscriber_request,
    subscriber_unsubscribe,
    subscriber_update,
)

__all__ = [
    "StatusPagePublisher",
    "apply_statuses",
    "component_create",
    "component_delete",
    "component_set_status",
    "component_update",
    "components_by_code",
    "group_create",
    "group_delete",
    "group_update",
    "incident_publish",
    "maintenance_delete",
    "maintenance_post_update",
    "maintenance_schedule",
    "maintenance_update",
    "page_changed",
    "parse_component_statuses",
    "public_incident_update",
    "public_postmortem_attach",
    "public_update_post",
    "subscriber_add",
    "subscriber_confirm",
    "subscriber_delete",
    "subscriber_request",
    "subscriber_unsubscribe",
    "subscriber_update",
]
