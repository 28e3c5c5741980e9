"""The status page's fast path: on the status host, a path whose copy is
current is answered before the rest of the middleware (sessions, CSRF,
auth, messages: none of them has anything to do there), with the headers
the path's first answer carried; anything else goes the usual way and
teaches it the path. The copies themselves are statuspage/cache.py's."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from incidents import clock

from .cache import hit, respond

# The status host's URLconf (treebeard_ir/hosts.py sets it on its requests).
STATUS_URLCONF = "statuspage.host_urls"
# Headers ``respond`` writes for each answer; the others of the first answer
# are replayed, but never a cookie or a Vary.
OWN_HEADERS = {
    "etag",
    "last-modified",
    "cache-control",
    "content-type",
    "content-length",
    "content-encoding",
}
NEVER = {"set-cookie", "vary"}


def on_status_host(request: HttpRequest) -> bool:
    """The Host header names STATUS_PAGE_HOST (always an allowed host): a
    string comparison, no lookup, on every request the fast path sees."""
    host = request.META.get("HTTP_HOST", "")
    return (
        host.rpartition(":")[0].lower() == settings.STATUS_PAGE_HOST
        if ":" in host
        else (host.lower() == settings.STATUS_PAGE_HOST)
    )


class FastPathMiddleware:
    """Right after SecurityMiddleware (its HTTPS redirect comes first) in
    settings.MIDDLEWARE, so a hit skips every other middleware; the headers
    they added to the path's first answer (the CSP, X-Frame-Options, CORS)
    are replayed. A path is learnt only from an answer of the status host's
    URLconf (``treebeard_ir.hosts.StatusHostMiddleware`` set it inside)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        # path → (key, the view's own headers, until when the path means that key)
        self.paths: dict[str, tuple[str, list[tuple[str, str]], datetime | None]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not on_status_host(request):
            return self.get_response(request)
        known = self.paths.get(request.path_info)
        if known is not None and known[2] is not None and clock.now() >= known[2]:
            known = None
        if known is not None and not request.META.get("QUERY_STRING"):
            copy = hit(known[0])
            if copy is not None:
                response = respond(request, copy)
                for name, value in known[1]:
                    response[name] = value
                return response
        response = self.get_response(request)
        key = getattr(response, "statuspage_key", None)
        learnt = getattr(request, "urlconf", None) == STATUS_URLCONF
        if learnt and key is not None and response.status_code in (200, 304):
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in OWN_HEADERS and name.lower() not in NEVER
            ]
            valid_until = getattr(response, "statuspage_valid_until", None)
            self.paths[request.path_info] = (key, headers, valid_until)
        return response
