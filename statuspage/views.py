"""Views of the public status page (served on ``STATUS_PAGE_HOST`` only).

Nothing here signs anyone in or sets a cookie: the pages are the same for
every visitor and may be cached by anyone.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """A placeholder until the status page itself is built."""
    response = HttpResponse(render_to_string("statuspage/home.html"))
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_safe
def incident(request: HttpRequest, code: str) -> HttpResponse:
    """A public incident's own page (built next)."""
    return not_found(request)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 on the status host, rendered without the request: no CSRF token, no
    session, no link into the dashboard."""
    return HttpResponse(render_to_string("statuspage/404.html"), status=404)
