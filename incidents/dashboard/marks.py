"""Key moments on the incident page: a responder marks an event as the
detection, diagnosis, repair or a decision (FireHydrant and Jeli build the
post-mortem's narrative from them), or unmarks it. htmx swaps the event's
row; without JavaScript the form posts and the page comes back."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..engine import paging
from ..errors import DomainError
from ..models import MomentKind
from .views import describe_event, respond_required


@require_POST
@respond_required
def mark(request: HttpRequest, ref: str, event_id: int) -> HttpResponse:
    incident = selectors.incident_by_ref(ref)
    event = get_object_or_404(selectors.incident_timeline(incident), pk=event_id)
    kind = request.POST.get("kind", "")
    error, status = None, 200
    try:
        if kind:
            services.timeline_mark(actor=request.user, event=event, kind=kind)
        else:
            services.timeline_unmark(actor=request.user, event=event)
    except DomainError as err:
        error, status = err.message, 409 if err.conflict else 400
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            label = MomentKind(kind).label.lower() if kind else "no longer a key moment"
            messages.success(request, f"Event marked: {label}.")
        return redirect(f"{incident.get_absolute_url()}#event-{event.pk}")
    event = selectors.incident_timeline(incident).get(pk=event.pk)
    describe_event(event, paging.delivery_states(incident)[0])
    context = {"incident": incident, "event": event, "mark_error": error}
    return render(request, "incidents/_event.html", context, status=status)
