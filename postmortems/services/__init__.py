"""The post-mortems' changes, one function each (docs/architecture.md):
callers write ``services.postmortem_publish(...)``."""

from .actions import (
    action_item_add,
    action_item_create_ticket,
    action_item_delete,
    action_item_update,
)
from .creation import on_incident_resolved, postmortem_request
from .document import (
    postmortem_set_people,
    postmortem_set_timeline,
    postmortem_update,
    timeline_entry_add,
    timeline_entry_delete,
)
from .feedback import feedback_give
from .trackers import tracker_create, tracker_delete, tracker_rotate_secret, tracker_update
from .workflow import (
    REVIEW_CHECKLIST,
    missing_for_publishing,
    postmortem_import_timeline,
    postmortem_publish,
    postmortem_reopen,
    postmortem_sign_off,
    postmortem_submit,
)

__all__ = [
    "REVIEW_CHECKLIST",
    "action_item_add",
    "action_item_create_ticket",
    "action_item_delete",
    "action_item_update",
    "feedback_give",
    "missing_for_publishing",
    "on_incident_resolved",
    "postmortem_import_timeline",
    "postmortem_publish",
    "postmortem_reopen",
    "postmortem_request",
    "postmortem_set_people",
    "postmortem_set_timeline",
    "postmortem_sign_off",
    "postmortem_submit",
    "postmortem_update",
    "timeline_entry_add",
    "timeline_entry_delete",
    "tracker_create",
    "tracker_delete",
    "tracker_rotate_secret",
    "tracker_update",
]
