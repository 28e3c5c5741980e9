"""The dashboard's on-call page: ``/oncall/``.

Every schedule with who is on call now, the next two weeks of shifts,
upcoming overrides (remove where allowed), an "add an override" form on the
schedules the person may take shifts on, and the calendar feeds to subscribe
to. Thin like ``views.py``: the rules live in ``services.override_add`` /
``override_remove`` and ``access``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import clock, oncall, services
from ..access import can_manage, can_remove_override, schedules_taken_by
from ..models import Override, Schedule
from ..people import display_name
from .feeds import feed_url
from .forms import OverrideForm
from .views import respond_required, saved, view_required

HORIZON = timedelta(days=14)


def _schedule(schedule_id: int) -> Schedule:
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404("No such schedule.")
    return schedule


def _form(request: HttpRequest, schedule: Schedule, data=None) -> OverrideForm:
    return OverrideForm(
        data,
        zone=oncall.zone_of(schedule),
        actor=request.user,
        may_cover_others=can_manage(request.user),
        prefix=f"s{schedule.pk}",
    )


def _page(request: HttpRequest, bound: dict | None = None, status: int = 200) -> HttpResponse:
    """``bound``: {schedule id: the form that failed}, shown with its errors."""
    now = clock.now()
    schedules = list(Schedule.objects.all())
    current = oncall.oncall_by_schedule(schedules, now)
    upcoming = oncall.shifts_by_schedule(schedules, now, now + HORIZON)
    overrides: dict[int, list[Override]] = {s.pk: [] for s in schedules}
    for override in Override.objects.filter(ends_at__gt=now).select_related("user", "created_by"):
        override.removable = can_remove_override(request.user, override)
        overrides[override.schedule_id].append(override)
    # "Take a shift" only where the service would accept it (responders: the
    # schedules whose rotations include them).
    takeable = schedules_taken_by(request.user, schedules)
    cards = []
    for schedule in schedules:
        shifts = upcoming[schedule.pk]
        cards.append(
            {
                "schedule": schedule,
                "zone": oncall.zone_of(schedule),
                "now": current[schedule.pk],
                "shifts": shifts,
                "mine": [s for s in shifts if s.user.pk == request.user.pk],
                "overrides": overrides[schedule.pk],
                "form": ((bound or {}).get(schedule.pk) or _form(request, schedule))
                if schedule.pk in takeable
                else None,
                "feed": feed_url(schedule),
                "my_feed": feed_url(schedule, request.user),
            }
        )
    # Staffed schedules first; the ones nobody covers in the window are a
    # compact list at the end (escalation levels naming them page nobody).
    staffed = [c for c in cards if c["now"] or c["shifts"] or c["overrides"]]
    empty = [c for c in cards if c not in staffed]
    context = {"cards": staffed, "empty": empty, "horizon_days": HORIZON.days, "now": now}
    return render(request, "incidents/oncall.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@view_required
def oncall_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@respond_required
def override_add(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule(schedule_id)
    form = _form(request, schedule, request.POST)
    override = saved(form, services.override_add, schedule=schedule, actor=request.user)
    if override is not None:
        who = display_name(override.user)
        messages.success(request, f"{who} covers {schedule.name} for that window.")
        return redirect(f"{reverse('incidents:oncall')}#schedule-{schedule.slug}")
    return _page(request, bound={schedule.pk: form}, status=400)


@require_POST
@respond_required
def override_remove(request: HttpRequest, override_id: int) -> HttpResponse:
    override = Override.objects.select_related("schedule", "user").filter(pk=override_id).first()
    if override is None:
        raise Http404("No such override.")
    schedule = override.schedule
    services.override_remove(override=override, actor=request.user)
    messages.success(request, f"Override removed; {schedule.name} follows its rotations again.")
    return redirect(f"{reverse('incidents:oncall')}#schedule-{schedule.slug}")
