"""The Django admin for managers (DESIGN.md: "managers, through the Django admin").

Policies and services are plain data and are edited here directly. Incidents
are not: every change to one goes through ``incidents.services`` so it writes
its timeline event and deadlines like a change made anywhere else.

- The incident add form calls ``incident_declare``; the change form edits only
  the descriptive fields, through ``incident_update_fields``. Reference,
  status, severity and the stage times are read-only.
- Inlines show the role history, updates, timeline and deadlines read-only;
  the "assign a role" and "post a status update" rows call the services.
- Bulk actions call the services once per incident and report each
  ``IncidentError`` as a message instead of failing the whole request.
- The timeline and the deadlines are read-only for everyone, superusers too.

The admin is split by topic; importing this package registers everything.
"""

from .common import ReadOnlyAdminMixin, RespondPermissionMixin
from .incident import (
    FALSE_POSITIVE_ROOT_CAUSE,
    AssignRoleForm,
    IncidentAddForm,
    IncidentAdmin,
    PostUpdateForm,
)
from .integrations import AlertAdmin, AlertGroupKeyAdmin, ApiTokenAdmin, IntegrationAdmin
from .policies import ReferenceCounterAdmin, ServiceAdmin, SeverityPolicyAdmin
from .records import DeadlineAdmin, RoleAssignmentAdmin, StatusUpdateAdmin, TimelineEventAdmin

__all__ = [
    "FALSE_POSITIVE_ROOT_CAUSE",
    "AlertAdmin",
    "AlertGroupKeyAdmin",
    "ApiTokenAdmin",
    "AssignRoleForm",
    "DeadlineAdmin",
    "IncidentAddForm",
    "IncidentAdmin",
    "IntegrationAdmin",
    "PostUpdateForm",
    "ReadOnlyAdminMixin",
    "ReferenceCounterAdmin",
    "RespondPermissionMixin",
    "RoleAssignmentAdmin",
    "ServiceAdmin",
    "SeverityPolicyAdmin",
    "StatusUpdateAdmin",
    "TimelineEventAdmin",
]
