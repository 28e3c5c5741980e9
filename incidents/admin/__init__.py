"""The Django admin for managers (DESIGN.md: "managers, through the Django admin").

Every page that changes something people edit saves through
``incidents.services``, as the API and the dashboard do, so the rules, the
timeline and the audit log are the same whichever entry point is used
(``common.ServiceAdminMixin``: forms check the input's shape, the services
the rules; a refusal shows beside the field it names, nothing written).

- The incident add form calls ``incident_declare``; the change form edits only
  the descriptive fields, through ``incident_update_fields``. Reference,
  status, severity and the stage times are read-only.
- Inlines show the role history, updates, timeline and deadlines read-only;
  the "assign a role" and "post a status update" rows call the services.
- Bulk actions on incidents call the services once per incident and report
  each ``DomainError`` as a message instead of failing the whole request.
- The timeline, the deadlines and the audit log are read-only for everyone,
  superusers too.

The admin is split by topic; importing this package registers everything.
"""

from .audit import AuditEntryAdmin
from .channels import ChannelAdmin, NotificationAdmin, SlaBreachAdmin
from .common import ReadOnlyAdminMixin, RespondPermissionMixin
from .contacts import ContactMethodAdmin
from .engine import engine_status
from .escalation import EscalationLevelAdmin, EscalationPolicyAdmin, IncidentEscalationStepAdmin
from .incident import (
    FALSE_POSITIVE_ROOT_CAUSE,
    AssignRoleForm,
    IncidentAddForm,
    IncidentAdmin,
    PostUpdateForm,
)
from .integrations import AlertAdmin, AlertGroupKeyAdmin, ApiTokenAdmin, IntegrationAdmin
from .oncall import OverrideAdmin, RotationAdmin, RotationMemberAdmin, ScheduleAdmin
from .people import GroupAdmin, PeopleAdminMixin
from .policies import ReferenceCounterAdmin, ServiceAdmin, SeverityPolicyAdmin
from .records import DeadlineAdmin, RoleAssignmentAdmin, StatusUpdateAdmin, TimelineEventAdmin

__all__ = [
    "FALSE_POSITIVE_ROOT_CAUSE",
    "AlertAdmin",
    "AlertGroupKeyAdmin",
    "ApiTokenAdmin",
    "AssignRoleForm",
    "AuditEntryAdmin",
    "ChannelAdmin",
    "ContactMethodAdmin",
    "DeadlineAdmin",
    "EscalationLevelAdmin",
    "EscalationPolicyAdmin",
    "GroupAdmin",
    "IncidentAddForm",
    "IncidentAdmin",
    "IncidentEscalationStepAdmin",
    "IntegrationAdmin",
    "NotificationAdmin",
    "OverrideAdmin",
    "PeopleAdminMixin",
    "PostUpdateForm",
    "ReadOnlyAdminMixin",
    "ReferenceCounterAdmin",
    "RespondPermissionMixin",
    "RoleAssignmentAdmin",
    "RotationAdmin",
    "RotationMemberAdmin",
    "ScheduleAdmin",
    "ServiceAdmin",
    "SeverityPolicyAdmin",
    "SlaBreachAdmin",
    "StatusUpdateAdmin",
    "TimelineEventAdmin",
    "engine_status",
]
