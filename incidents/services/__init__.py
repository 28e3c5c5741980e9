"""Every change people (and tools) make, one function each (STYLE.md
convention 1; docs/architecture.md). One module per topic, so any rule is
found in one obvious file:

- ``incidents``: the incident lifecycle, ``incident_<verb>()``;
- ``alerts``: alerts from monitoring tools, stored and routed;
- ``integrations``: the tools that send alerts;
- ``tokens``: personal API tokens;
- ``contacts``: how a person is paged;
- ``checks``: the input checks the services share.

Each function is keyword-only and atomic, validates its input (raising
``DomainError`` naming the field, writing nothing), writes, records what
happened and starts side effects on commit. The dashboard, the API, the
admin and the tasks call these; none repeats their checks. The public
names are re-exported here: ``services.incident_declare(...)``.
"""

from .alerts import AlertOutcome, alert_record
from .contacts import (
    contact_add,
    contact_remove,
    contact_set_enabled,
    contact_test,
    contact_value_error,
)
from .incidents import (
    incident_acknowledge,
    incident_assign_role,
    incident_change_severity,
    incident_change_status,
    incident_declare,
    incident_escalate,
    incident_mitigate,
    incident_post_update,
    incident_relieve_role,
    incident_reopen,
    incident_resolve,
    incident_update_fields,
)
from .integrations import (
    integration_create,
    integration_delete,
    integration_lookup,
    integration_rotate_token,
    integration_update,
)
from .tokens import api_token_create, api_token_lookup, api_token_revoke

__all__ = [
    "AlertOutcome",
    "alert_record",
    "api_token_create",
    "api_token_lookup",
    "api_token_revoke",
    "contact_add",
    "contact_remove",
    "contact_set_enabled",
    "contact_test",
    "contact_value_error",
    "incident_acknowledge",
    "incident_assign_role",
    "incident_change_severity",
    "incident_change_status",
    "incident_declare",
    "incident_escalate",
    "incident_mitigate",
    "incident_post_update",
    "incident_relieve_role",
    "incident_reopen",
    "incident_resolve",
    "incident_update_fields",
    "integration_create",
    "integration_delete",
    "integration_lookup",
    "integration_rotate_token",
    "integration_update",
]
