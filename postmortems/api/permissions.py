"""Who may call the post-mortems' API: the rules of every /api/v1/ endpoint
(incidents.api.permissions: the token's scope first, then "viewers never
write"), with each endpoint's writers."""

from __future__ import annotations

from incidents.api.permissions import ManagerOnly, ReadWriteAccess

from .. import access


class ViewersReadRespondersWrite(ReadWriteAccess):
    """Post-mortems and action items: viewers read, responders write."""

    message = "Your group does not allow this (Viewer reads, Responder writes post-mortems)."
    may_write = staticmethod(access.can_respond)


class ManagersOnly(ManagerOnly):
    """Trackers: managers only, reading too (they hold credentials)."""

    message = "Only managers can manage trackers."
