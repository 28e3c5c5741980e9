"""Action items inline on the post-mortem page: add one, change its status,
owner or due date, delete it, and "Create ticket" in a tracker, each through
its service (postmortems/services/actions.py). htmx swaps the Action Items
section (and, out of band, the header and the review panel); without
JavaScript each form posts and the page comes back."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from incidents.errors import DomainError

from .. import selectors, services
from ..models import ActionItem, Postmortem, Tracker
from . import forms
from .page import page, part, usernames, view_required

SECTION = "postmortems/_actions.html"


def _status(err: DomainError) -> int:
    return 409 if err.conflict else 400


def _item(pk: int, item_id: int) -> ActionItem:
    item = get_object_or_404(ActionItem.objects.select_related("postmortem"), pk=item_id)
    if item.postmortem_id != pk:
        raise Http404("No such action item on this post-mortem.")
    return item


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        return redirect(reverse("postmortems:detail", args=[pk]) + "#section-actions")
    return part(request, pk, SECTION, actions_notice=message)


def _refused(request: HttpRequest, pk: int, bound: dict, status: int) -> HttpResponse:
    if request.htmx:
        return part(request, pk, SECTION, bound=bound, status=status)
    return page(request, pk, bound=bound, status=status)


@require_POST
@view_required
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_object_or_404(Postmortem, pk=pk)
    form = forms.ActionItemForm(request.POST, usernames=usernames(selectors.people()))
    form.auto_id = "action-%s"
    if form.is_valid():
        try:
            item = services.action_item_add(
                actor=request.user, postmortem=postmortem, **form.cleaned_data
            )
        except DomainError as err:
            forms.attach_error(form, err)
            return _refused(request, pk, {"action": form}, _status(err))
        return _done(request, pk, f"Action item added: {item.title}.")
    return _refused(request, pk, {"action": form}, 400)


@require_POST
@view_required
def action_update(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    """A row's status, owner and due date (only what the row's form sent)."""
    item = _item(pk, item_id)
    form = forms.ActionItemRowForm(request.POST, usernames=usernames(selectors.people()))
    form.auto_id = f"item-{item.pk}-%s"
    if form.is_valid():
        try:
            services.action_item_update(actor=request.user, item=item, **form.changes())
        except DomainError as err:
            forms.attach_error(form, err)
            return _refused(request, pk, {f"item-{item.pk}": form}, _status(err))
        return _done(request, pk, f"Saved: {item.title}.")
    return _refused(request, pk, {f"item-{item.pk}": form}, 400)


@require_POST
@view_required
def action_delete(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    item = _item(pk, item_id)
    try:
        services.action_item_delete(actor=request.user, item=item)
    except DomainError as err:
        return part(request, pk, SECTION, actions_error=err.message, status=_status(err))
    return _done(request, pk, f"Action item removed: {item.title}.")


@require_POST
@view_required
def action_ticket(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    """ "Create ticket": the item goes to the chosen tracker through the outbox."""
    item = _item(pk, item_id)
    chosen = request.POST.get("tracker", "")
    tracker = Tracker.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    try:
        services.action_item_create_ticket(actor=request.user, item=item, tracker=tracker)
    except DomainError as err:
        if request.htmx:
            return part(request, pk, SECTION, actions_error=err.message, status=_status(err))
        messages.error(request, err.message)
        return redirect(reverse("postmortems:detail", args=[pk]) + "#section-actions")
    return _done(request, pk, f"Ticket requested in {tracker.name}: {item.title}.")
