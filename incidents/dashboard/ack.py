"""``/ack/<token>/``: the page behind an email's "Acknowledge" button."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .. import ack_links, services
from ..access import can_respond
from ..errors import DomainError


@require_http_methods(["GET", "HEAD", "POST"])
def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the incident and the button; POST acknowledges as the
    person the link was sent to (no sign-in: the signed link is the proof)."""
    try:
        incident, person = ack_links.read(token)
    except ack_links.LinkExpired:
        return _page(request, "expired", status=410)
    except ack_links.LinkInvalid:
        return _page(request, "invalid", status=404)
    context = {"incident": incident, "person": person, "token": token}
    if not can_respond(person):
        return _page(request, "forbidden", status=403, **context)
    if request.method == "POST":
        try:
            services.incident_acknowledge(incident=incident, actor=person)
        except DomainError as err:
            incident.refresh_from_db()
            return _page(request, "conflict", status=409, error=err.message, **context)
        incident.refresh_from_db()
        return _page(request, "done", **context)
    if incident.acknowledged_at or not incident.is_open:
        return _page(request, "conflict", **context)
    return _page(request, "ask", **context)


def _page(request: HttpRequest, state: str, status: int = 200, **context) -> HttpResponse:
    response = render(
        request, "incidents/ack_link.html", {"state": state, **context}, status=status
    )
    # The token is a credential: keep it out of other sites' Referer headers
    # and out of caches. ("no-referrer" would make browsers send Origin: null
    # with the form, which the CSRF check rightly refuses.)
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response
