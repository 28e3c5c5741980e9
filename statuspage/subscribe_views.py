"""The public subscription pages, on the status host (and under /status/ on
the main host): subscribe, confirm, unsubscribe.

No cookie, no session, no CSRF token (the pages are the same for everyone):
the POSTs are ``csrf_exempt`` because none of them acts for a signed-in
person. Subscribing only mails a confirmation link (and answers the same
whatever the address); confirming and unsubscribing are authorised by the
signed token in the URL. Following a link only shows a button (mail
scanners fetch links); the POST acts — for unsubscribing that POST is also
a mail client's one-click request (RFC 8058, ``List-Unsubscribe-Post``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from incidents.errors import DomainError, RateLimited
from treebeard_ir.signin import client_ip

from .cache import cached_response
from .models import Component, ComponentGroup
from .services.subscribers import (
    CONFIRM_MAX_AGE,
    subscriber_confirm,
    subscriber_request,
    subscriber_unsubscribe,
)

HTML = "text/html; charset=utf-8"
MAX_CHOICES = 500


def _page(template: str, context: dict | None = None, *, status: int = 200) -> HttpResponse:
    """A page that must not be kept by anyone (it answers one person)."""
    response = HttpResponse(
        render_to_string(template, context or {}), content_type=HTML, status=status
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the URL carries a token
    return response


def _form_context(**extra) -> dict:
    components = list(Component.objects.filter(showcase=True).select_related("group"))
    groups = list(ComponentGroup.objects.all())
    grouped = [(g, [c for c in components if c.group_id == g.pk]) for g in groups]
    return {
        "loose": [c for c in components if c.group_id is None],
        "grouped": [(g, members) for g, members in grouped if members],
        **extra,
    }


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """GET: the form (every component and group may be chosen; none means
    everything). POST: the same "check your inbox" answer whatever the
    address, unless the input is malformed (400) or too frequent (429)."""
    if request.method != "POST":
        return cached_response(
            request,
            "subscribe",
            lambda: render_to_string("statuspage/subscribe.html", _form_context()).encode(),
            content_type=HTML,
        )
    address = request.POST.get("address", "")
    components = request.POST.getlist("components")[:MAX_CHOICES]
    groups = request.POST.getlist("groups")[:MAX_CHOICES]
    try:
        subscriber_request(
            address=address, components=components, groups=groups, ip=client_ip(request)
        )
    except RateLimited as exc:
        response = _page(
            "statuspage/subscribe_error.html", {"error": exc.message, "retry": True}, status=429
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    except DomainError as exc:
        context = _form_context(error=exc.message, field=exc.field, address=address)
        return _page("statuspage/subscribe.html", context, status=400)
    return _page("statuspage/subscribe_sent.html", {"days": CONFIRM_MAX_AGE.days})


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return _page("statuspage/subscribe_confirm.html", {"done": False})
    try:
        subscriber = subscriber_confirm(token=token)
    except DomainError as exc:
        status = 409 if exc.conflict else 400
        return _page("statuspage/subscribe_error.html", {"error": exc.message}, status=status)
    return _page("statuspage/subscribe_confirm.html", {"done": True, "address": subscriber.address})


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return _page("statuspage/subscribe_unsubscribe.html", {"done": False})
    try:
        subscriber_unsubscribe(token=token)
    except DomainError as exc:
        return _page("statuspage/subscribe_error.html", {"error": exc.message}, status=400)
    return _page("statuspage/subscribe_unsubscribe.html", {"done": True})
