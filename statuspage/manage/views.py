"""The communications lead's status-page screen (/status-page/).

Signed-in people only: viewers look, responders set component statuses,
an incident's communications lead, commander or a manager speak for it
(statuspage/access.py, asked by the services). Views stay thin: check the
form's shape, call one service, show its ``DomainError`` beside the field.

htmx: a refused form swaps only itself (drafts elsewhere on the screen
stay as typed); a form that worked re-renders the whole screen (the
incident moved from one list to another, the overall status changed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from incidents.access import can_view
from incidents.errors import DomainError
from incidents.models import Incident

from .. import services
from ..models import Component, ComponentStatus, PublicIncident, PublicStatus
from .forms import (
    ComponentStatusForm,
    PreviewForm,
    PublicUpdateForm,
    PublishForm,
    attach_error,
)
from .preview import draft, timeline
from .screen import Card, IncidentScreen, Screen, incident_screen, screen
from .wording import FIRST_MESSAGE, impact_for, resolved_message


def view_required(view: Callable) -> Callable:
    """Anonymous → the sign-in page (htmx: the whole window goes there);
    signed in without the right to read incidents → 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            response = redirect_to_login(request.get_full_path())
            if request.htmx:
                hx = HttpResponse(status=204)
                hx["HX-Redirect"] = response["Location"]
                return hx
            return response
        if not can_view(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


# --- forms of a card ----------------------------------------------------------


def _publish_form(card: Card, components, data=None) -> PublishForm:
    initial = {"impact": impact_for(card.incident), "message": FIRST_MESSAGE}
    form = PublishForm(data, initial=initial, components=components)
    form.auto_id = f"publish-{card.incident.ref}-%s"
    return form


def _update_form(card: Card, components, data=None, *, resolve: bool = False) -> PublicUpdateForm:
    public = card.public
    if resolve:
        ended = card.incident.resolved_at
        initial = {
            "status": PublicStatus.RESOLVED,
            "body": resolved_message(public, ended_at=ended),
        }
    else:
        initial = {"status": public.status if public.is_open else PublicStatus.INVESTIGATING}
    form = PublicUpdateForm(data, initial=initial, components=components)
    form.kind = "resolve" if resolve else "update"
    form.auto_id = f"{form.kind}-{card.incident.ref}-%s"
    return form


def _arm(card: Card, components, *, resolve: bool = False) -> Card:
    """Give a card the form it offers (unless it holds one: a refused post)
    and the preview of that form's draft."""
    if not card.may_publish or (card.incident.is_drill and card.public is None):
        return card
    if card.form is None and card.public is None:
        card.form = _publish_form(card, components)
    elif card.form is None:
        card.form = _update_form(card, components, resolve=resolve or card.resolve_publicly)
    form = card.form
    data = form.data if form.is_bound else dict(form.initial)
    shown = PreviewForm(data, components=components)
    shown.is_valid()
    card.preview = draft(shown, public=card.public)
    return card


def _screen_context(request: HttpRequest, found: Screen) -> dict:
    for card in [*found.to_resolve, *found.to_publish, *found.published]:
        _arm(card, found.components)
    return {
        "screen": found,
        "page": found.page,
        "components": found.components,
        "statuses": ComponentStatus.choices,
    }


def _incident_context(request: HttpRequest, found: IncidentScreen, *, resolve=False) -> dict:
    _arm(found.card, found.components, resolve=resolve)
    return {
        "card": found.card,
        "page": found.page,
        "components": found.components,
        "incident": found.card.incident,
        "public": found.card.public,
        "timeline": timeline(found.card.public),
    }


# --- pages --------------------------------------------------------------------


@require_safe
@view_required
def home(request: HttpRequest) -> HttpResponse:
    context = _screen_context(request, screen(request.user))
    template = "statuspage/manage/_screen.html" if request.htmx else "statuspage/manage/home.html"
    return render(request, template, context)


@require_safe
@view_required
def incident(request: HttpRequest, ref: str) -> HttpResponse:
    found = incident_screen(request.user, ref)
    context = _incident_context(request, found, resolve="resolve" in request.GET)
    template = (
        "statuspage/manage/_incident.html" if request.htmx else "statuspage/manage/incident.html"
    )
    return render(request, template, context)


# --- actions ------------------------------------------------------------------


def _done(request: HttpRequest, ref: str | None, message: str) -> HttpResponse:
    """After a change: the page it came from, whole (htmx: its partial,
    swapped in place of the screen)."""
    messages.success(request, message)
    on_incident = ref is not None and request.POST.get("from") == "incident"
    if not request.htmx:
        return redirect(
            reverse("statuspage-manage:incident", args=[ref])
            if on_incident
            else reverse("statuspage-manage:home")
        )
    if on_incident:
        context = _incident_context(request, incident_screen(request.user, ref))
        response = render(request, "statuspage/manage/_incident.html", context)
    else:
        response = render(
            request,
            "statuspage/manage/_screen.html",
            _screen_context(request, screen(request.user)),
        )
    response["HX-Retarget"] = "#screen"
    response["HX-Reswap"] = "outerHTML"
    return response


def _refused(request: HttpRequest, ref: str, form, *, status: int, partial: str) -> HttpResponse:
    """The form again with the error beside its field: alone for htmx, in
    its page otherwise."""
    on_incident = request.POST.get("from") == "incident"
    if on_incident:
        context = _incident_context(request, incident_screen(request.user, ref))
        card = context["card"]
    else:
        context = _screen_context(request, screen(request.user))
        card = next((c for c in context["screen"].cards() if c.incident.ref == ref), None)
    if card is None:  # it left the list meanwhile: show it on its own page
        found = incident_screen(request.user, ref)
        context, card, on_incident = _incident_context(request, found), found.card, True
    card.form = form
    _arm(card, context["components"])  # the preview of what was sent
    if request.htmx:
        context.update(card=card, form=form, origin="incident" if on_incident else "screen")
        return render(request, partial, context, status=status)
    template = "statuspage/manage/incident.html" if on_incident else "statuspage/manage/home.html"
    return render(request, template, context, status=status)


def _components() -> list[Component]:
    return list(Component.objects.select_related("group"))


@require_POST
@view_required
def publish(request: HttpRequest, ref: str) -> HttpResponse:
    found = get_object_or_404(Incident, ref=ref)
    form = PublishForm(request.POST, components=_components())
    form.auto_id = f"publish-{ref}-%s"
    partial = "statuspage/manage/_publish_form.html"
    if not form.is_valid():
        return _refused(request, ref, form, status=400, partial=partial)
    try:
        public = services.incident_publish(
            actor=request.user, incident=found, **form.service_kwargs()
        )
    except DomainError as err:
        attach_error(form, err)
        return _refused(request, ref, form, status=409 if err.conflict else 400, partial=partial)
    return _done(request, ref, f"{ref} is on the status page as “{public.name}”.")


@require_POST
@view_required
def update(request: HttpRequest, ref: str) -> HttpResponse:
    public = get_object_or_404(PublicIncident.objects.select_related("incident"), incident__ref=ref)
    form = PublicUpdateForm(request.POST, components=_components())
    form.kind = "resolve" if request.POST.get("kind") == "resolve" else "update"
    form.auto_id = f"{form.kind}-{ref}-%s"
    partial = "statuspage/manage/_update_form.html"
    if not form.is_valid():
        return _refused(request, ref, form, status=400, partial=partial)
    try:
        done = services.public_update_post(
            actor=request.user, public_incident=public, **form.service_kwargs()
        )
    except DomainError as err:
        attach_error(form, err)
        return _refused(request, ref, form, status=409 if err.conflict else 400, partial=partial)
    label = PublicStatus(done.status).label.lower()
    return _done(request, ref, f"Public update posted: “{public.name}” is {label}.")


@require_POST
@view_required
def component_status(request: HttpRequest, code: str) -> HttpResponse:
    component = get_object_or_404(Component, code=code)
    form = ComponentStatusForm(request.POST)
    error = None
    status = 200
    if form.is_valid():
        try:
            component = services.component_set_status(
                actor=request.user, component=component, status=form.cleaned_data["status"]
            )
        except DomainError as err:
            error, status = err.message, 409 if err.conflict else 400
    else:
        error, status = "Choose a status.", 400
    if error is None and not request.htmx:
        messages.success(request, f"{component.name} is now {component.get_status_display()}.")
        return redirect("statuspage-manage:home")
    found = screen(request.user)
    context = _screen_context(request, found)
    context["refresh_overall"] = True
    for shown in found.components:
        shown.error = error if shown.pk == component.pk else None
    if error and not request.htmx:
        return render(request, "statuspage/manage/home.html", context, status=status)
    return render(request, "statuspage/manage/_components.html", context, status=status)


@require_POST
@view_required
def preview(request: HttpRequest) -> HttpResponse:
    """A draft rendered as the public would see it; nothing is saved."""
    form = PreviewForm(request.POST, components=_components())
    form.is_valid()  # lenient: what does not parse is left out
    public = PublicIncident.objects.filter(incident__ref=request.POST.get("ref", "")).first()
    context = {"draft": draft(form, public=public)}
    if request.htmx:
        return render(request, "statuspage/manage/_preview.html", context)
    return render(request, "statuspage/manage/preview.html", context)
