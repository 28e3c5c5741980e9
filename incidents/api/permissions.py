"""API permissions: the user's group (incidents.access) and the token's scope."""

from __future__ import annotations

from rest_framework import permissions

from ..access import can_manage, can_respond, can_view
from ..models import ApiToken, TokenScope


def token_scopes(request) -> set[str] | None:
    """Scopes of the token used, or None for a session (a person in a browser)."""
    auth = getattr(request, "auth", None)
    return set(auth.scopes) if isinstance(auth, ApiToken) else None


def _scope_allows(request, view) -> bool:
    scopes = token_scopes(request)
    if scopes is None:
        return True
    if request.method in permissions.SAFE_METHODS:
        return TokenScope.READ in scopes
    if TokenScope.WRITE in scopes:
        return True
    # An ingest-only key may file incidents (monitoring scripts, support tools).
    return (
        TokenScope.INGEST in scopes
        and getattr(view, "ingest_allowed", False)
        and (getattr(view, "action", None) == "create")
    )


class _ScopedPermission(permissions.BasePermission):
    """The token's scope first (one place), then the group rule of ``allowed``."""

    def has_permission(self, request, view):
        if not _scope_allows(request, view):
            self.message = "This token's scopes do not allow this request."
            return False
        return self.allowed(request, view)

    def allowed(self, request, view) -> bool:
        raise NotImplementedError


class IncidentAccess(_ScopedPermission):
    """Viewers read; responders act; the token must carry the scope."""

    message = "Your group does not allow this (Viewer reads, Responder acts on incidents)."

    def allowed(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return can_view(request.user)
        if getattr(view, "action", None) == "create" and TokenScope.INGEST in (
            token_scopes(request) or set()
        ):
            return can_view(request.user) or can_respond(request.user)
        return can_respond(request.user)


class ManagerWrites(_ScopedPermission):
    """Everyone signed in with a view right reads; managers write."""

    message = "Only managers can change this."

    def allowed(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return can_view(request.user)
        return can_manage(request.user)


class ManagerOnly(_ScopedPermission):
    message = "Only managers can manage integrations."

    def allowed(self, request, view):
        return can_manage(request.user)


class SignedInRead(_ScopedPermission):
    """Anyone signed in (a read token will do) reads; nothing is written."""

    message = "Sign in, or use a token with the read scope."

    def allowed(self, request, view):
        return bool(request.user and request.user.is_authenticated)
