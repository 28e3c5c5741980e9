"""Who may call the status page's management API: the same questions
statuspage/access.py asks the services, plus the token's scope (a read
token reads, every write needs the write scope, as everywhere in /api/v1/).

The services ask again (publishing, editing components): these classes only
keep a caller from getting as far as a service it may never use.
"""

from __future__ import annotations

from rest_framework import permissions

from incidents.models import ApiToken

from ..access import can_manage, can_respond, can_view

READ_SCOPE, WRITE_SCOPE = "read", "write"


def token_allows(request, *, write: bool) -> bool:
    """A session (a person in a browser) is not limited by scopes; a token is."""
    auth = getattr(request, "auth", None)
    if not isinstance(auth, ApiToken):
        return True
    return (WRITE_SCOPE if write else READ_SCOPE) in set(auth.scopes)


class StatusPageAccess(permissions.BasePermission):
    """Readers read; ``may_write`` says who writes."""

    message = "Your group does not allow this."

    @staticmethod
    def may_write(user) -> bool:
        raise NotImplementedError

    def has_permission(self, request, view) -> bool:
        write = request.method not in permissions.SAFE_METHODS
        if not token_allows(request, write=write):
            self.message = (
                "This token's scopes do not allow this request: reading needs the read "
                "scope, every write the write scope."
            )
            return False
        if not write:
            return can_view(request.user)
        if not (can_respond(request.user) or can_manage(request.user)):
            # Worded as everywhere in /api/v1/ (incidents.api.permissions).
            self.message = (
                "Only responders and managers change anything; your group (Viewer, "
                "or none) only reads."
            )
            return False
        return self.may_write(request.user)


class ReadViewRespondWrite(StatusPageAccess):
    """Viewers read; responders (and managers) write: component statuses,
    publishing, public updates, maintenance."""

    message = "Only responders and managers change the status page."

    @staticmethod
    def may_write(user) -> bool:
        return can_respond(user) or can_manage(user)


class ReadViewManageWrite(StatusPageAccess):
    """Viewers read; managers write: components, groups, subscribers."""

    message = "Only managers can change this."

    @staticmethod
    def may_write(user) -> bool:
        return can_manage(user)
