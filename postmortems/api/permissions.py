"""Who may call the post-mortems' API: the person's group (incidents.access,
through postmortems.access) and, for a token, its scopes (reads need
``read``, every write ``write``; an ingest token makes no REST call)."""

from __future__ import annotations

from rest_framework import permissions

from incidents.models import ApiToken, TokenScope

from .. import access


def token_allows(request, *, write: bool) -> bool:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, ApiToken):
        return True  # a session: a person in a browser
    return (TokenScope.WRITE if write else TokenScope.READ) in set(auth.scopes)


class PostmortemPermission(permissions.BasePermission):
    """The token's scope first, then "viewers never write", then ``allowed``
    (the group's rule of the endpoint)."""

    def has_permission(self, request, view) -> bool:
        write = request.method not in permissions.SAFE_METHODS
        if not token_allows(request, write=write):
            self.message = (
                "This token's scopes do not allow this request: reading needs the read "
                "scope, every write the write scope."
            )
            return False
        user = request.user
        if write and not (access.can_respond(user) or access.can_manage(user)):
            # The API's one rule before any other (as incidents' API words it).
            self.message = (
                "Only responders and managers change anything; your group (Viewer, "
                "or none) only reads."
            )
            return False
        return self.allowed(request, write=write)

    def allowed(self, request, *, write: bool) -> bool:
        raise NotImplementedError


class ViewersReadRespondersWrite(PostmortemPermission):
    """Post-mortems and action items: viewers read, responders write."""

    message = "Your group does not allow this (Viewer reads, Responder writes post-mortems)."

    def allowed(self, request, *, write: bool) -> bool:
        user = request.user
        return access.can_respond(user) if write else access.can_view(user)


class ManagersOnly(PostmortemPermission):
    """Trackers: managers only, reading too (they hold credentials)."""

    message = "Only managers can manage trackers."

    def allowed(self, request, *, write: bool) -> bool:
        return access.can_manage(request.user)
