"""Responder dashboard: the board, the declare form, the incident page and
its POST-only actions.

Views stay thin (STYLE.md 9): check access, validate the form's shape, call
one ``services.incident_<verb>``, and show its ``DomainError`` inline.
htmx requests get the partial that the full page includes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import clock, lifecycle, oncall, publication, selectors, services
from ..access import can_respond, can_view
from ..engine import paging, watchdog
from ..errors import DomainError
from ..models import DeadlineKind, EventKind, Incident, Role, Severity, Status
from ..people import display_name
from ..request_guards import refusal
from . import forms

# Polls re-render at least this often even when no event was written, so
# what only time changes (an incident leaving "resolved in the last 24 h")
# shows up too.
BOARD_REFRESH_BUCKET_SECONDS = 300
RESOLVED_WINDOW = timedelta(hours=24)

# Timeline events whose message a person wrote (rendered as Markdown).
PROSE_EVENTS = {
    EventKind.UPDATE_POSTED,
    EventKind.STATUS_CHANGED,
    EventKind.SEVERITY_CHANGED,
    EventKind.MITIGATED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
}


# --- access ------------------------------------------------------------------


def _guard(check: Callable, *, login_next: Callable[..., str] | None = None):
    """Anonymous → the sign-in page (htmx: an HX-Redirect to it); signed in
    without the right → 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                after = login_next(**kwargs) if login_next else request.get_full_path()
                response = redirect_to_login(after)
                if request.htmx:
                    # htmx would follow the redirect and swap the sign-in
                    # form into the page; send the whole window there.
                    hx = HttpResponse(status=204)
                    hx["HX-Redirect"] = response["Location"]
                    return hx
                return response
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _incident_url(ref: str) -> str:
    return reverse("incidents:detail", kwargs={"ref": ref})


view_required = _guard(can_view)
respond_required = _guard(can_respond)


# --- board -------------------------------------------------------------------


def _board_version() -> str:
    bucket = int(clock.now().timestamp()) // BOARD_REFRESH_BUCKET_SECONDS
    return f"{selectors.last_event_id()}.{bucket}"


def _board_context(request: HttpRequest, version: str) -> dict:
    filter_form = forms.BoardFilterForm(request.GET or None, services=selectors.service_names())
    filters = filter_form.filters()
    incidents = selectors.open_incidents(filters)
    for incident in incidents:
        incident.next_deadline = selectors.next_clock(incident)
        # "L1: nobody on call — paged L2", from the prefetched paging events.
        incident.paging_notes = paging.latest_notes(incident.paging_events)
    query = request.GET.copy()
    query.pop("since", None)
    counts = selectors.open_counts()
    return {
        "incidents": incidents,
        "resolved": _with_links(
            selectors.incidents_resolved_since(clock.now() - RESOLVED_WINDOW, filters)
        ),
        "counts": counts,
        "severity_counts": [
            {"value": s.value, "label": s.label, "count": counts[s.value]} for s in Severity
        ],
        # Only schedules with someone on call: the guide seeds one per role,
        # and empty ones would crowd out the people to call.
        "oncall": [(s, shift) for s, shift in oncall.schedules_oncall(clock.now()) if shift],
        # Pages and clocks depend on the worker and beat: say so when they lag.
        "engine_behind": watchdog.behind_seconds(),
        "filter_form": filter_form,
        "filtered": filters.narrows,
        "query": query.urlencode(),
        "version": version,
    }


def _with_links(incidents: list[Incident]) -> list[Incident]:
    """The board's resolved rows with the apps' links (their post-mortem),
    asked for the whole list at once."""
    found = lifecycle.links_for(incidents)
    for incident in incidents:
        incident.links = [link for link in found.get(incident.pk, []) if not link.post]
    return incidents


def _board_list(request: HttpRequest) -> HttpResponse:
    context = _board_context(request, _board_version())
    return render(request, "incidents/_board_list.html", context)


@require_safe
@view_required
def board(request: HttpRequest) -> HttpResponse:
    version = _board_version()
    if request.htmx and request.GET.get("since") == version:
        return HttpResponse(status=204)  # nothing changed: htmx keeps the page as it is
    template = "incidents/_board_list.html" if request.htmx else "incidents/board.html"
    return render(request, template, _board_context(request, version))


# --- declare -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@respond_required
def declare(request: HttpRequest) -> HttpResponse:
    policies = selectors.severity_policies()
    form = forms.DeclareForm(request.POST or None, policies=policies)
    status = 200
    if request.method == "POST":
        status = refused[1] if (refused := refusal(request)) else 400
        if form.is_valid():
            try:
                incident = services.incident_declare(actor=request.user, **form.cleaned_data)
            except DomainError as err:
                attach_error(form, err)
                status = 409 if err.conflict else 400
            else:
                messages.success(
                    request,
                    f"{incident.ref} declared. Acknowledge it and take "
                    "command, or hand it to the on-call engineer.",
                )
                return redirect(incident)
    return render(request, "incidents/declare.html", {"form": form}, status=status)


def attach_error(form: Form, err: DomainError) -> None:
    """Show a service's error at the field it names (or above the form)."""
    form.add_error(err.field if err.field in form.fields else None, err.message)


def saved(form: Form, service: Callable, **args):
    """What ``service`` returns, called with ``args`` and the form's input
    when the form is valid; None when the form or the service refused it
    (the error is then on the form, ``attach_error``)."""
    if form.is_valid():
        try:
            return service(**args, **form.cleaned_data)
        except DomainError as err:
            attach_error(form, err)
    return None


# --- incident page -----------------------------------------------------------


def _primary_action(incident: Incident) -> str | None:
    """One primary action per state (UI.md)."""
    if not incident.is_open:
        return "reopen"
    if not incident.is_acknowledged:
        return "acknowledge"
    if incident.commander is None:
        return "take_command"
    return "post_update"


def _action_forms(incident: Incident, bound: dict[str, Form]) -> dict[str, Form]:
    unbound = {
        "update": lambda: forms.UpdateForm(initial={"status": incident.status}),
        "assign": lambda: forms.AssignRoleForm(initial={"role": Role.RESPONDER}),
        "status": lambda: forms.StatusForm(initial={"status": _next_status(incident)}),
        "severity": lambda: forms.SeverityForm(initial={"severity": incident.severity}),
        "escalate": forms.EscalateForm,
        "mitigate": forms.MitigateForm,
        "resolve": forms.ResolveForm,
        "reopen": forms.ReopenForm,
    }
    result = {}
    for key, make in unbound.items():
        form = bound.get(key) or make()
        form.auto_id = f"{key}_%s"  # unique ids: several forms share field names
        result[key] = form
    return result


def _next_status(incident: Incident) -> str:
    order = [Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING]
    if incident.status in order[:-1]:
        return order[order.index(incident.status) + 1]
    return incident.status


def describe_event(event, pages_by_event: dict) -> None:
    """What ``_event.html`` shows of an event beside its row: prose or not,
    the before → after, its pages, and the key moment it was marked as."""
    event.is_prose = event.kind in PROSE_EVENTS
    event.change = _change(event)
    event.pages = pages_by_event.get(event.pk, [])
    event.key_moment = getattr(event, "mark", None)


def _detail_context(
    request: HttpRequest,
    incident: Incident,
    *,
    bound: dict[str, Form] | None = None,
    error: str | None = None,
) -> dict:
    timeline = list(selectors.incident_timeline(incident))
    # What became of each page, read from the outbox rows (one query): the
    # events are append-only, the rows go from queued to delivered or failed.
    pages_by_event, pages_by_level = paging.delivery_states(incident)
    for event in timeline:
        describe_event(event, pages_by_event)
    escalation = selectors.incident_escalation(incident)
    paging.annotate_ladder(escalation, timeline, pages_by_level)
    # The clock that matters next comes first (acknowledge, then by due time);
    # of an escalation path only its next level (the later ones follow it).
    pending, paths = [], set()
    for deadline in sorted(
        getattr(incident, "pending_deadlines", []),
        key=lambda d: (d.kind != DeadlineKind.ACKNOWLEDGE, d.due_at),
    ):
        if deadline.kind == DeadlineKind.ESCALATION:
            if deadline.path in paths:
                continue
            paths.add(deadline.path)
        pending.append(deadline)
    responder = can_respond(request.user)
    context = {
        "incident": incident,
        "timeline": timeline,
        # The newest event id (not the first row: events are ordered by time).
        "version": max((e.pk for e in timeline), default=0),
        "clocks": pending,
        "deadlines": selectors.incident_deadlines(incident),
        "role_rows": [
            (Role.COMMANDER.label, [p for p in [incident.commander] if p], Role.COMMANDER),
            (
                Role.COMMUNICATIONS_LEAD.label,
                [p for p in [incident.communications_lead] if p],
                Role.COMMUNICATIONS_LEAD,
            ),
            ("Technical responders", incident.responders, Role.RESPONDER),
        ],
        "role_history": list(selectors.role_history(incident)),
        "escalation": escalation,
        "pages_waiting": any(page.waiting for pages in pages_by_event.values() for page in pages),
        "paging_notes": paging.latest_notes(timeline),
        "breaches": selectors.incident_breaches(incident),
        "notifications": selectors.incident_notifications(incident),
        "primary": _primary_action(incident) if responder else None,
        # The apps built on incidents (the post-mortem) through lifecycle.register_link.
        "incident_links": lifecycle.links(incident, user=request.user),
        "error": error,
    }
    context.update(_public_side(incident))
    if responder:
        context["forms"] = _action_forms(incident, bound or {})
    return context


# A public incident still telling customers it is not over (Statuspage's statuses).
PUBLIC_UNRESOLVED = ("investigating", "identified", "monitoring")


def _public_side(incident: Incident) -> dict:
    """The status page's word on the incident (``incidents.publication``;
    None without a status page). Drills are never published."""
    public = None if incident.is_drill else publication.state(incident)
    due = bool(
        public
        and public.published
        and not incident.is_open
        and public.public_status in PUBLIC_UNRESOLVED
    )
    return {"public": public, "public_resolve_due": due}


def _change(event) -> str:
    """Before → after of a status or severity event ("Investigating → Identified")."""
    for key, labels in (("status", Status), ("severity", Severity)):
        before = (event.before or {}).get(key)
        after = (event.after or {}).get(key)
        if before and after and before != after:
            return f"{labels(before).label} → {labels(after).label}"
    return ""


@require_safe
@view_required
def detail(request: HttpRequest, ref: str) -> HttpResponse:
    incident = selectors.incident_by_ref(ref)
    if request.htmx and "live" in request.GET:
        # The header polls: every change writes a timeline event, so answer
        # 204 (htmx leaves the page alone) until a newer event exists.
        seen = request.GET["live"]
        if seen == str(selectors.last_event_id(incident)):
            return HttpResponse(status=204)
        context = _detail_context(request, incident)
        # An event id fits in bigint; anything longer is not one (and int()
        # refuses strings past 4300 digits).
        seen_id = int(seen) if seen.isdigit() and len(seen) <= 18 else 0
        context["new_events"] = [e for e in context["timeline"] if e.pk > seen_id]
        return render(request, "incidents/_incident_live.html", context)
    if request.htmx and "pages" in request.GET:
        # The ladder polls while a page is queued: it and the timeline's
        # page states (out of band) follow the outbox rows.
        return render(request, "incidents/_pages_live.html", _detail_context(request, incident))
    template = "incidents/_incident.html" if request.htmx else "incidents/detail.html"
    return render(request, template, _detail_context(request, incident))


# --- actions -----------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One POST endpoint: its form (None: no input) and the service it calls."""

    key: str
    form: type[Form] | None
    run: Callable[..., object]
    done: Callable[[Incident, dict], str]


def _done_role(verb: str) -> Callable[[Incident, dict], str]:
    def message(incident: Incident, data: dict) -> str:
        name = display_name(data["user"])
        return f"{name} {verb} {Role(data['role']).label.lower()}."

    return message


ACTIONS: dict[str, Action] = {
    "acknowledge": Action(
        "acknowledge", None, services.incident_acknowledge, lambda i, d: f"{i.ref} acknowledged."
    ),
    "assign": Action(
        "assign", forms.AssignRoleForm, services.incident_assign_role, _done_role("is now")
    ),
    "relieve": Action(
        "relieve", forms.RelieveRoleForm, services.incident_relieve_role, _done_role("is no longer")
    ),
    "update": Action(
        "update",
        forms.UpdateForm,
        services.incident_post_update,
        lambda i, d: f"Update posted ({d['visibility']}).",
    ),
    "status": Action(
        "status",
        forms.StatusForm,
        services.incident_change_status,
        lambda i, d: f"Status is now {Status(d['status']).label.lower()}.",
    ),
    "severity": Action(
        "severity",
        forms.SeverityForm,
        services.incident_change_severity,
        lambda i, d: f"Severity is now {d['severity']}; clocks restarted from the new policy.",
    ),
    "escalate": Action(
        "escalate",
        forms.EscalateForm,
        services.incident_escalate,
        # Who was paged and how, or that nobody could be (incidents.engine.paging).
        lambda i, d: paging.escalated_sentence(i.escalation_outcome),
    ),
    "mitigate": Action(
        "mitigate",
        forms.MitigateForm,
        services.incident_mitigate,
        lambda i, d: "Marked mitigated; now monitoring.",
    ),
    "resolve": Action(
        "resolve", forms.ResolveForm, services.incident_resolve, lambda i, d: f"{i.ref} resolved."
    ),
    "reopen": Action(
        "reopen",
        forms.ReopenForm,
        services.incident_reopen,
        lambda i, d: f"{i.ref} reopened; back to investigating.",
    ),
}


def _perform(request: HttpRequest, ref: str, action: Action) -> HttpResponse:
    incident = selectors.incident_by_ref(ref)
    form = action.form(request.POST) if action.form else None
    if refused := refusal(request):
        # The body was cut at the limit: show what fitted, change nothing.
        message, status = refused
        return _refused(request, incident, action, form, status=status, error=message)
    if form is not None and not form.is_valid():
        return _refused(request, incident, action, form, status=400)
    data = form.cleaned_data if form is not None else {}
    try:
        done = action.run(incident=incident, actor=request.user, **data)
    except DomainError as err:
        # A field's error goes next to the field; any other on top of the page.
        error = None
        if form is not None and err.field in form.fields:
            form.add_error(err.field, err.message)
        else:
            error = err.message
        return _refused(
            request, incident, action, form, status=409 if err.conflict else 400, error=error
        )
    # The flash reads what the service did from the incident it returned.
    messages.success(request, action.done(done if isinstance(done, Incident) else incident, data))
    if request.POST.get("from") == "board":
        return _board_list(request) if request.htmx else _back_to_board(request)
    if request.htmx:
        incident = selectors.incident_by_ref(ref)
        return render(request, "incidents/_incident.html", _detail_context(request, incident))
    return redirect(incident)


def _back_to_board(request: HttpRequest) -> HttpResponse:
    query = request.GET.urlencode()
    return redirect(reverse("incidents:board") + (f"?{query}" if query else ""))


def _refused(request, incident, action, form, *, status: int, error: str | None = None):
    """Show the refusal inline: the page (or the htmx partial) again, with
    the form as it was sent and the message next to the field at fault."""
    if request.POST.get("from") == "board":
        messages.error(request, error or "That did not work; nothing changed.")
        template = "incidents/_board_list.html" if request.htmx else "incidents/board.html"
        context = _board_context(request, _board_version())
        return render(request, template, context, status=status)
    bound = {action.key: form} if form is not None else {}
    context = _detail_context(request, incident, bound=bound, error=error)
    template = "incidents/_incident.html" if request.htmx else "incidents/detail.html"
    return render(request, template, context, status=status)


def _action_view(key: str):
    action = ACTIONS[key]

    @require_POST
    @_guard(can_respond, login_next=lambda ref: _incident_url(ref))
    def view(request: HttpRequest, ref: str) -> HttpResponse:
        return _perform(request, ref, action)

    view.__name__ = f"{key}_view"
    return view


acknowledge = _action_view("acknowledge")
assign_role = _action_view("assign")
relieve_role = _action_view("relieve")
post_update = _action_view("update")
change_status = _action_view("status")
change_severity = _action_view("severity")
escalate = _action_view("escalate")
mitigate = _action_view("mitigate")
resolve = _action_view("resolve")
reopen = _action_view("reopen")
