"""Every change people (and tools) make, one function each (STYLE.md
convention 1; docs/architecture.md). One module per topic, so any rule is
found in one obvious file:

- ``incidents``: the incident lifecycle, ``incident_<verb>()``;
- ``alerts``: alerts from monitoring tools, stored and routed (``alert_record``;
  ``alert_sql`` holds its few hand-written statements);
- ``integrations``: the tools that send alerts;
- ``schedules``: on-call schedules, their rotations (and members) and overrides;
- ``policies``: severity policies, escalation policies and their levels;
- ``channels``: where notifications go (Slack, email, PagerDuty, webhooks);
- ``tokens``: personal API tokens;
- ``contacts``: how a person is paged;
- ``people``: accounts, their flags and group membership (privileges);
- ``timeline``: key moments marked on an incident's timeline;
- ``checks``: the input checks the services share;
- ``edits``: how a service writes an edited row, described once per model
  (``Rows``: checked whole, only what differs saved, one audit row).

Each function is keyword-only and atomic, validates its input (raising
``DomainError`` naming the field, writing nothing), writes, records what
happened and starts side effects on commit. The dashboard, the API, the
admin and the tasks call these; none repeats their checks. The public
names are re-exported here: ``services.incident_declare(...)``.
"""

from .alerts import AlertOutcome, alert_record
from .channels import (
    channel_create,
    channel_delete,
    channel_rotate_secret,
    channel_test,
    channel_update,
)
from .contacts import (
    contact_add,
    contact_remove,
    contact_test,
    contact_update,
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
    integration_rotate_token,
    integration_sender,
    integration_update,
)
from .people import (
    person_create,
    person_delete,
    person_set_groups,
    person_update,
)
from .policies import (
    escalation_level_create,
    escalation_level_delete,
    escalation_level_update,
    escalation_policy_create,
    escalation_policy_delete,
    escalation_policy_update,
    severity_policy_create,
    severity_policy_update,
)
from .schedules import (
    override_add,
    override_change,
    override_remove,
    rotation_create,
    rotation_delete,
    rotation_set_members,
    rotation_update,
    schedule_create,
    schedule_delete,
    schedule_update,
)
from .timeline import timeline_mark, timeline_unmark
from .tokens import (
    OPERATOR,
    api_token_create,
    api_token_lookup,
    api_token_rename,
    api_token_revoke,
)

__all__ = [
    "OPERATOR",
    "AlertOutcome",
    "alert_record",
    "api_token_create",
    "api_token_lookup",
    "api_token_rename",
    "api_token_revoke",
    "channel_create",
    "channel_delete",
    "channel_rotate_secret",
    "channel_test",
    "channel_update",
    "contact_add",
    "contact_remove",
    "contact_test",
    "contact_update",
    "escalation_level_create",
    "escalation_level_delete",
    "escalation_level_update",
    "escalation_policy_create",
    "escalation_policy_delete",
    "escalation_policy_update",
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
    "integration_rotate_token",
    "integration_sender",
    "integration_update",
    "override_add",
    "override_change",
    "override_remove",
    "person_create",
    "person_delete",
    "person_set_groups",
    "person_update",
    "rotation_create",
    "rotation_delete",
    "rotation_set_members",
    "rotation_update",
    "schedule_create",
    "schedule_delete",
    "schedule_update",
    "severity_policy_create",
    "severity_policy_update",
    "timeline_mark",
    "timeline_unmark",
]
