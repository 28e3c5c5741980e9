"""The post-mortem page's side: submit, sign off, publish and reopen; the
meeting and its participants; the reviewers; participants' feedback; and
"Ask for a post-mortem" from a resolved incident's page.

Each action changes what the whole page offers (a published post-mortem
is no longer editable), so htmx swaps the page's ``#postmortem`` whole; a
refusal comes back the same way, its message beside the form it blames.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from incidents.errors import DomainError
from incidents.models import Incident

from .. import selectors, services
from ..models import Postmortem
from . import forms
from .page import page, usernames, view_required


def _done(request: HttpRequest, pk: int, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return page(request, pk)
    url = reverse("postmortems:detail", args=[pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _status(err: DomainError) -> int:
    return 409 if err.conflict else 400


def _step(run: Callable, message: str) -> Callable:
    @require_POST
    @view_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        postmortem = get_object_or_404(Postmortem, pk=pk)
        try:
            run(actor=request.user, postmortem=postmortem)
        except DomainError as err:
            return page(request, pk, error=err.message, status=_status(err))
        return _done(request, pk, message)

    view.__name__ = run.__name__.removeprefix("postmortem_")
    return view


submit = _step(services.postmortem_submit, "Submitted for review.")
publish = _step(services.postmortem_publish, "Published. The 48-hour promise is met.")
reopen = _step(services.postmortem_reopen, "Reopened as a draft; sign-offs were cleared.")


@require_POST
@view_required
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_object_or_404(Postmortem, pk=pk)
    form = forms.SignOffForm(request.POST)
    if form.is_valid():
        try:
            services.postmortem_sign_off(
                actor=request.user,
                postmortem=postmortem,
                checklist=form.checklist(),
                comment=form.cleaned_data["comment"],
            )
        except DomainError as err:
            # An unticked checklist belongs to the form; anything else (not a
            # reviewer, not in review) to the panel, where no form may show.
            forms.attach_error(form, err)
            error = None if err.field == "checklist" else err.message
            return page(request, pk, bound={"sign_off": form}, error=error, status=_status(err))
        return _done(request, pk, "Signed off.", "panel-review")
    return page(request, pk, bound={"sign_off": form}, status=400)


def _people_form(request, form_class, pk: int, key: str, run: Callable, message: str):
    form = form_class(request.POST, usernames=usernames(selectors.people()))
    form.auto_id = f"{key}-%s"
    if form.is_valid():
        try:
            with transaction.atomic():  # both changes, or neither
                run(form.cleaned_data)
        except DomainError as err:
            forms.attach_error(form, err)
            return page(request, pk, bound={key: form}, status=_status(err))
        return _done(request, pk, message, f"panel-{key}")
    return page(request, pk, bound={key: form}, status=400)


@require_POST
@view_required
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting's time (``postmortem_update``) and its participants
    (``postmortem_set_people``): each participant gets an invitation."""
    postmortem = get_object_or_404(Postmortem, pk=pk)

    def run(data: dict) -> None:
        services.postmortem_update(
            actor=request.user, postmortem=postmortem, meeting_at=data["meeting_at"]
        )
        services.postmortem_set_people(
            actor=request.user, postmortem=postmortem, participants=data["participants"]
        )

    return _people_form(
        request,
        forms.MeetingForm,
        pk,
        "meeting",
        run,
        "Meeting saved; invitations are on their way.",
    )


@require_POST
@view_required
def reviewers(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_object_or_404(Postmortem, pk=pk)

    def run(data: dict) -> None:
        services.postmortem_set_people(
            actor=request.user, postmortem=postmortem, reviewers=data["reviewers"]
        )

    return _people_form(request, forms.ReviewersForm, pk, "reviewers", run, "Reviewers saved.")


@require_POST
@view_required
def feedback(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_object_or_404(Postmortem, pk=pk)
    form = forms.FeedbackForm(request.POST)
    form.auto_id = "feedback-%s"
    if form.is_valid():
        try:
            services.feedback_give(actor=request.user, postmortem=postmortem, **form.cleaned_data)
        except DomainError as err:
            forms.attach_error(form, err)
            return page(request, pk, bound={"feedback": form}, status=_status(err))
        return _done(
            request, pk, "Thank you: your feedback is in the post-mortem.", "panel-feedback"
        )
    return page(request, pk, bound={"feedback": form}, status=400)


@require_POST
@view_required
def request_postmortem(request: HttpRequest, ref: str) -> HttpResponse:
    """ "Ask for a post-mortem" on a resolved incident's page (any severity)."""
    incident = get_object_or_404(Incident, ref=ref)
    try:
        postmortem = services.postmortem_request(actor=request.user, incident=incident)
    except DomainError as err:
        messages.error(request, err.message)
        return redirect(incident)
    messages.success(request, f"Post-mortem of {ref} started; it is due in 48 hours.")
    response = redirect("postmortems:detail", pk=postmortem.pk)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("postmortems:detail", args=[postmortem.pk])
    return response
