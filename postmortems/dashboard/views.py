"""The post-mortem page (/postmortems/<id>/): the guide's sections, each
edited in place, and the timeline.

Views stay thin: check the form's shape, call one service, show its
``DomainError`` beside the field with nothing written. htmx swaps the
section that changed (and, out of band, the review panel's "missing"
list); without JavaScript every form posts and the page comes back whole.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from incidents.errors import DomainError

from .. import services
from ..models import Postmortem, TimelineEntry
from . import forms
from .page import page, part, view_required
from .sections import SECTIONS, editor


def _url(pk: int, anchor: str = "") -> str:
    url = reverse("postmortems:detail", args=[pk])
    return f"{url}#{anchor}" if anchor else url


def _status(err: DomainError) -> int:
    return 409 if err.conflict else 400


@require_safe
@view_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    editing = request.GET.get("edit")
    return page(request, pk, editing=editing if editing in SECTIONS else None)


# --- sections --------------------------------------------------------------------


def _section(key: str):
    if key not in SECTIONS:
        raise Http404("No such section.")
    return SECTIONS[key]


@require_safe
@view_required
def section(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """The section as read (htmx: "Cancel" puts it back)."""
    _section(key)
    if not request.htmx:
        return redirect(_url(pk, f"section-{key}"))
    return part(request, pk, "postmortems/_section.html", key=key)


@require_safe
@view_required
def section_edit(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """The section's form in its place (without JavaScript: the page with it open)."""
    _section(key)
    if not request.htmx:
        return redirect(reverse("postmortems:detail", args=[pk]) + f"?edit={key}#section-{key}")
    return part(request, pk, "postmortems/_section.html", key=key, editing=key)


@require_POST
@view_required
def section_save(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Save a section through ``postmortem_update``; "Preview" (without
    JavaScript) shows the rendered Markdown and saves nothing."""
    chosen = _section(key)
    postmortem = get_object_or_404(Postmortem, pk=pk)
    form, previews = editor(postmortem, chosen, request.POST)
    status = 400
    if "preview" in request.POST:
        form.is_valid()
        status = 200
    elif form.is_valid():
        try:
            services.postmortem_update(
                actor=request.user, postmortem=postmortem, **form.service_kwargs()
            )
        except DomainError as err:
            forms.attach_error(form, err)
            status = _status(err)
        else:
            if not request.htmx:
                messages.success(request, f"{chosen.title} saved.")
                return redirect(_url(pk, f"section-{key}"))
            return part(request, pk, "postmortems/_section.html", key=key)
    bound = {key: (form, previews)}
    if request.htmx:
        return part(request, pk, "postmortems/_section.html", key=key, bound=bound, status=status)
    return page(request, pk, bound=bound, status=status)


@require_POST
@view_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A Markdown field rendered as the page will show it (sanitised by
    the ``markdown`` filter); nothing is saved."""
    get_object_or_404(Postmortem, pk=pk)
    text = request.POST.get(request.GET.get("field", ""), "")
    return render(request, "postmortems/_preview.html", {"text": text[:50_000]})


# --- the timeline ------------------------------------------------------------------


def _timeline_done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        return redirect(_url(pk, "section-timeline"))
    return part(request, pk, "postmortems/_timeline.html", notice=message)


def _timeline_refused(request, pk: int, form, status: int) -> HttpResponse:
    bound = {"timeline": form}
    if request.htmx:
        return part(request, pk, "postmortems/_timeline.html", bound=bound, status=status)
    return page(request, pk, bound=bound, status=status)


@require_POST
@view_required
def timeline_add(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_object_or_404(Postmortem, pk=pk)
    form = forms.TimelineEntryForm(request.POST)
    if not form.is_valid():
        return _timeline_refused(request, pk, form, 400)
    try:
        services.timeline_entry_add(actor=request.user, postmortem=postmortem, **form.cleaned_data)
    except DomainError as err:
        forms.attach_error(form, err)
        return _timeline_refused(request, pk, form, _status(err))
    return _timeline_done(request, pk, "Entry added to the timeline.")


@require_POST
@view_required
def timeline_delete(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(TimelineEntry.objects.select_related("postmortem"), pk=entry_id)
    if entry.postmortem_id != pk:
        raise Http404("No such entry on this post-mortem.")
    try:
        services.timeline_entry_delete(actor=request.user, entry=entry)
    except DomainError as err:
        return _timeline_error(request, pk, err)
    return _timeline_done(request, pk, "Entry removed from the timeline.")


@require_POST
@view_required
def timeline_import(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = get_object_or_404(Postmortem, pk=pk)
    try:
        count = services.postmortem_import_timeline(actor=request.user, postmortem=postmortem)
    except DomainError as err:
        return _timeline_error(request, pk, err)
    return _timeline_done(
        request, pk, f"Timeline imported again from the incident: {count} events."
    )


def _timeline_error(request, pk: int, err: DomainError) -> HttpResponse:
    if request.htmx:
        return part(
            request,
            pk,
            "postmortems/_timeline.html",
            timeline_error=err.message,
            status=_status(err),
        )
    return page(request, pk, error=err.message, status=_status(err))
