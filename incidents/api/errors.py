"""One exception handler: every API error is JSON with a message and, for
input errors, the fields at fault: ``{"detail": "...", "errors": {field: [..]}}``."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from ..errors import DomainError, RateLimited

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
API_PREFIXES = ("/api/", "/v2/")


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            # ListField reports its items by int key: "services[1]", as for lists.
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            out[prefix or "non_field_errors"] = [str(v) for v in detail]
        else:
            for index, value in enumerate(detail):
                out.update(_flatten(value, f"{prefix}[{index}]"))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def api_exception_handler(exc, context):
    if isinstance(exc, RateLimited):
        response = Response(
            {**exc.as_dict(), "retry_after": exc.retry_after},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DomainError):
        code = status.HTTP_409_CONFLICT if exc.conflict else status.HTTP_400_BAD_REQUEST
        return Response(exc.as_dict(), status=code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body is larger than 1 MiB."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        response = Response(
            {"detail": "The database is unavailable; retry later."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "30"
        return response
    if isinstance(exc, DataError):
        # PostgreSQL refused a value (too long, out of range): input the
        # field checks should have caught. Still the caller's input, so a
        # 400 rather than a 500; the warning says which check is missing.
        log.warning("DataError reached the API handler: %s", str(exc).splitlines()[0])
        return Response(
            {"detail": f"A value cannot be stored: {str(exc).splitlines()[0]}"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first = next(iter(errors.items()))
        message = f"{first[0]}: {first[1][0]}" if first[0] != "non_field_errors" else first[1][0]
        return Response(
            {"detail": f"Invalid input. {message}", "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.Throttled):
        response.data = {"detail": "Too many requests; slow down.", "retry_after": exc.wait}
    if response is None and isinstance(exc, DatabaseError):
        raise exc
    return response


class ApiBodyLimitMiddleware:
    """Refuse API and ingestion bodies over 1 MiB with 413 before reading them."""

    PREFIXES = API_PREFIXES

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > MAX_BODY_BYTES:
                return JsonResponse(
                    {
                        "detail": f"Request body is {length} bytes; the limit is 1 MiB (1048576).",
                        "status": "invalid event",
                        "message": "Request body is larger than 1 MiB.",
                    },
                    status=413,
                )
        return self.get_response(request)


def not_found(request, exception=None):
    """``handler404``: a URL no route matches (``/api/v1/severities/P7/``)
    answers JSON under the API, the site's own page elsewhere."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": f"Nothing at {request.path}."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """``handler500``: API clients get JSON even when the code fails."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Server error; it has been logged."}, status=500)
    return defaults.server_error(request)
