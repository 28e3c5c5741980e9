"""Request-level guards for input no view should ever see.

1. ``UrlTextMiddleware``: a NUL character in the path or the query string
   (``/incidents/%00/``, ``?q=a%00b``) can match no row and makes PostgreSQL
   raise ``DataError`` in whichever lookup meets it first (a 500 on every
   page that filters by text). One check for every URL of the site answers
   400 naming the parameter, before any view runs. (Broken UTF-8 needs no
   check: Django re-percent-encodes it in paths and replaces it in queries.)
2. ``OversizedFormMiddleware``: a dashboard form over
   ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (1 MiB) or ``DATA_UPLOAD_MAX_NUMBER_FIELDS``
   would be a bare "Bad Request (400)" page and lose what the person typed.
   Instead the view gets what fits (the text cut at the limit) and a marker
   that every dashboard form turns into an error at the top of the form, so
   the page shows again with the message and the text, and nothing is
   stored. Only dashboard URLs (the ``incidents`` namespace) get this: the
   admin's forms know nothing of the marker and must keep refusing outright.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils.datastructures import MultiValueDict

from .safejson import text_problem

API_PREFIXES = ("/api/", "/v2/")
# The key under which a refused form's reason travels in ``request.POST``.
REFUSED_KEY = "__input_refused__"


def url_problem(request: HttpRequest) -> tuple[str, str] | None:
    """The first (field, reason) of the path or query that cannot be text."""
    if reason := text_problem(request.path):
        return "path", f"The address {reason}."
    for key, values in request.GET.lists():
        if reason := text_problem(key):
            return "query", f"A query parameter name {reason}."
        for value in values:
            if reason := text_problem(value):
                return key, f"{key} {reason}."
    return None


class UrlTextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if found := url_problem(request):
            field, message = found
            if request.path.startswith(API_PREFIXES):
                return JsonResponse({"detail": message, "errors": {field: [message]}}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def refusal(request: HttpRequest) -> tuple[str, int] | None:
    """Why the dashboard refused this POST's body and the status to answer
    (413 too large, 400 too many fields), or None."""
    return getattr(request, "input_refused", None)


def _is_dashboard(request: HttpRequest) -> bool:
    try:
        return resolve(request.path_info).namespace == "incidents"
    except Resolver404:
        return False


def _kept_fields(raw: bytes, max_fields: int | None) -> QueryDict:
    """What fits of an urlencoded body: whole fields up to the limits; the
    field cut by the byte limit keeps its beginning."""
    kept = QueryDict(mutable=True)
    text = raw.decode("utf-8", errors="ignore")
    pairs = parse_qsl(text, keep_blank_values=True, errors="replace")
    for key, value in pairs[: max_fields - 1 if max_fields else None]:
        kept.appendlist(key, value)
    return kept


class OversizedFormMiddleware:
    """Runs before CSRF (which reads ``request.POST`` first and would answer
    the bare 400 itself), so the kept CSRF token still counts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and not request.path.startswith(API_PREFIXES):
            try:
                request.POST  # noqa: B018 -- parse now, while a refusal can still be shown
            except (RequestDataTooBig, TooManyFieldsSent) as exc:
                if not _is_dashboard(request):
                    raise
                self._keep_what_fits(request, exc)
        return self.get_response(request)

    @staticmethod
    def _keep_what_fits(request: HttpRequest, exc: Exception) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        status = 413
        if isinstance(exc, TooManyFieldsSent):
            status = 400
            message = (
                f"The form sent more than {max_fields} fields; nothing was saved. "
                "Check the form and send it again."
            )
        else:
            message = (
                f"The form is larger than {limit // 1024} KiB; nothing was saved. "
                "What you typed is shown as far as it fits: shorten it and send it again."
            )
        kept = QueryDict(mutable=True)
        if request.content_type == "application/x-www-form-urlencoded":
            raw = request._body if hasattr(request, "_body") else request.read(limit)
            kept = _kept_fields(raw[:limit], max_fields)
        kept[REFUSED_KEY] = message
        kept._mutable = False
        request._post = kept
        request._files = MultiValueDict()  # else reading FILES would parse again
        request.input_refused = (message, status)
