"""The OpenAPI schema and Swagger UI: for signed-in people and API tokens,
public only when the operator says so (``API_DOCS_PUBLIC=true``). The schema
maps every endpoint an attacker would probe; it is no secret, but nobody
outside needs it by default."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, permissions


class DocsAccess(permissions.BasePermission):
    message = "Sign in or send an API token to read the API schema (API_DOCS_PUBLIC is off)."

    def has_permission(self, request, view) -> bool:
        # Read at request time, so tests and operators can flip it.
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsAccess]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [DocsAccess]

    def handle_exception(self, exc):
        # A person in a browser is sent to sign in; a script gets the JSON 401/403.
        refused = isinstance(exc, exceptions.NotAuthenticated | exceptions.PermissionDenied)
        if refused and "HTTP_AUTHORIZATION" not in self.request.META:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
