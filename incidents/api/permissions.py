"""API permissions: the user's group (incidents.access) and the token's scope."""

from __future__ import annotations

from rest_framework import permissions

from .. import privileges
from ..access import can_manage, can_respond, can_view
from ..models import ApiToken


def token_scopes(request) -> set[str] | None:
    """Scopes of the token used, or None for a session (a person in a browser)."""
    auth = getattr(request, "auth", None)
    return set(auth.scopes) if isinstance(auth, ApiToken) else None


class ScopedPermission(permissions.BasePermission):
    """The token's scope first, then "viewers never write", then the group
    rule of ``allowed`` (incidents.privileges holds the first two rules)."""

    def has_permission(self, request, view):
        write = request.method not in permissions.SAFE_METHODS
        scopes = token_scopes(request)
        if scopes is not None and not privileges.token_allows(scopes, write=write):
            self.message = (
                "This token's scopes do not allow this request: reading needs the read "
                "scope, every write (declaring incidents too) the write scope; an ingest "
                "token only posts alerts, to the integration URLs."
            )
            return False
        if write and not privileges.may_write(request.user):
            self.message = (
                "Only responders and managers change anything; your group (Viewer, "
                "or none) only reads."
            )
            return False
        return self.allowed(request, view)

    def allowed(self, request, view) -> bool:
        raise NotImplementedError


class ReadWriteAccess(ScopedPermission):
    """Everyone with a view right reads; ``may_write`` says who writes."""

    may_write = staticmethod(can_manage)

    def allowed(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return can_view(request.user)
        return self.may_write(request.user)


class IncidentAccess(ReadWriteAccess):
    """Viewers read; responders act; the token must carry the scope."""

    message = "Your group does not allow this (Viewer reads, Responder acts on incidents)."
    may_write = staticmethod(can_respond)


class ManagerWrites(ReadWriteAccess):
    """Everyone signed in with a view right reads; managers write."""

    message = "Only managers can change this."


class ManagerOnly(ScopedPermission):
    message = "Only managers can manage integrations."

    def allowed(self, request, view):
        return can_manage(request.user)


class SignedInRead(ScopedPermission):
    """Anyone signed in (a read token will do) reads; nothing is written."""

    message = "Sign in, or use a token with the read scope."

    def allowed(self, request, view):
        return bool(request.user and request.user.is_authenticated)
