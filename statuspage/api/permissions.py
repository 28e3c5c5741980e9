"""Who may call the status page's management API: the rules of every
/api/v1/ endpoint (incidents.api.permissions: the token's scope first, then
"viewers never write"), with the status page's own writers. The services
ask again (publishing, editing components); these classes only keep a
caller from getting as far as a service it may never use."""

from __future__ import annotations

from incidents.api.permissions import ReadWriteAccess

from .. import access


class ReadViewRespondWrite(ReadWriteAccess):
    """Viewers read; responders (and managers) write: component statuses,
    publishing, public updates, maintenance."""

    message = "Only responders and managers change the status page."
    may_write = staticmethod(access.can_respond)


class ReadViewManageWrite(ReadWriteAccess):
    """Viewers read; managers write: components, groups, subscribers."""

    message = "Only managers can change this."
    may_write = staticmethod(access.can_manage)
