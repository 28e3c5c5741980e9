"""Who may call the status page's management API: the same rules as
incidents' API (statuspage/access.py asks incidents.access), written here
because ``incidents.api`` is not open to other apps.

1. A token must carry the scope of the request (``read`` to read, ``write``
   to change anything); a session (a person in a browser) needs none.
2. Reading needs a view right (Viewer and up).
3. Viewers (and people with no group) never write, whatever the token.
4. Writing needs what the class says: a responder, or a manager.
"""

from __future__ import annotations

from rest_framework import permissions

from incidents.models import ApiToken, TokenScope

from .. import access


def token_scopes(request) -> set[str] | None:
    """The scopes of the token used, or None for a session."""
    auth = getattr(request, "auth", None)
    return set(auth.scopes) if isinstance(auth, ApiToken) else None


class StatusPageAccess(permissions.BasePermission):
    """Viewers read; ``may_write`` says who writes."""

    message = "Your group does not allow this."
    may_write = staticmethod(access.can_manage)

    def has_permission(self, request, view) -> bool:
        write = request.method not in permissions.SAFE_METHODS
        scopes = token_scopes(request)
        needed = TokenScope.WRITE if write else TokenScope.READ
        if scopes is not None and needed not in scopes:
            self.message = (
                f"This token's scopes do not allow this request: it needs the {needed} scope."
            )
            return False
        if not write:
            return access.can_view(request.user)
        user = request.user
        if not (access.can_respond(user) or access.can_manage(user)):
            self.message = (
                "Only responders and managers change anything; your group (Viewer, "
                "or none) only reads."
            )
            return False
        return self.may_write(user)


class ReadViewRespondWrite(StatusPageAccess):
    """Viewers read; responders (and managers) write: maintenance,
    component statuses."""

    message = "Only responders change this."
    may_write = staticmethod(access.can_respond)


class ReadViewManageWrite(StatusPageAccess):
    """Viewers read; managers write: components, groups, subscribers."""

    message = "Only managers can change this."
    may_write = staticmethod(access.can_manage)
