"""``/me/``: how pages reach me, and my on-call shifts.

People keep their own contact methods (email, PagerDuty routing key, Slack
member ID) and test them before a real page needs them; managers edit
anyone's in the admin. The rules live in ``contacts``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import clock, oncall
from ..errors import DomainError
from ..models import ContactKind, ContactMethod, Schedule
from ..notify.errors import TransportError
from ..services import contacts
from .feeds import feed_url
from .forms import DashboardForm
from .oncall import HORIZON
from .views import saved, view_required


class ContactForm(DashboardForm):
    kind = forms.ChoiceField(choices=ContactKind.choices, label="Kind")
    value = forms.CharField(
        max_length=254,
        required=False,  # the service says what is missing, in its words
        label="Address, routing key or member ID",
        help_text="Email: an address. PagerDuty: your service's Events API v2 "
        "integration key. Slack: your member ID (profile → ⋮ → Copy member ID).",
    )


def on_my_contact_method(act: Callable[[HttpRequest, ContactMethod], None]):
    """A POST on one of my contact methods (another's, or none: 404): ``act``
    on it, then back to the list with the message ``act`` left."""

    @require_POST
    @view_required
    @wraps(act)
    def view(request: HttpRequest, method_id: int) -> HttpResponse:
        method = ContactMethod.objects.filter(pk=method_id, user=request.user).first()
        if method is None:
            raise Http404("No such contact method of yours.")
        act(request, method)
        return _back()

    return view


def _back() -> HttpResponse:
    return redirect(reverse("incidents:me") + "#contact-methods")


def _page(request: HttpRequest, form: ContactForm | None = None, status: int = 200):
    now = clock.now()
    schedules = list(Schedule.objects.all())
    by_schedule = oncall.shifts_by_schedule(schedules, now, now + HORIZON)
    shifts = sorted(
        (
            (shift, schedule)
            for schedule in schedules
            for shift in by_schedule[schedule.pk]
            if shift.user.pk == request.user.pk
        ),
        key=lambda pair: pair[0].starts_at,
    )
    mine = {schedule.pk: schedule for _shift, schedule in shifts}.values()
    feeds = [(schedule, feed_url(schedule, request.user)) for schedule in mine]
    methods = list(ContactMethod.objects.filter(user=request.user).order_by("kind", "id"))
    context = {
        "methods": methods,
        "pageable": any(m.enabled and m.kind in contacts.TESTABLE for m in methods),
        "form": form or ContactForm(),
        "shifts": [(shift, schedule, oncall.zone_of(schedule)) for shift, schedule in shifts],
        "feeds": feeds,
        "horizon_days": HORIZON.days,
    }
    return render(request, "incidents/me.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@view_required
def me(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@view_required
def contact_add(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST)
    method = saved(form, contacts.contact_add, actor=request.user, user=request.user)
    if method is not None:
        messages.success(request, f"Added {method.get_kind_display().lower()} {method.value}.")
        return _back()
    return _page(request, form, status=400)


@on_my_contact_method
def contact_enabled(request: HttpRequest, method: ContactMethod) -> None:
    enabled = request.POST.get("enabled") == "1"
    contacts.contact_update(actor=request.user, method=method, enabled=enabled)
    verb = "Resumed" if enabled else "Paused"
    messages.success(request, f"{verb} pages to {method.value}.")


@on_my_contact_method
def contact_remove(request: HttpRequest, method: ContactMethod) -> None:
    contacts.contact_remove(method=method, actor=request.user)
    messages.success(request, f"Removed {method.value}.")


@on_my_contact_method
def contact_test(request: HttpRequest, method: ContactMethod) -> None:
    try:
        outcome = contacts.contact_test(method=method, actor=request.user)
    except (TransportError, DomainError) as err:
        messages.error(request, f"Test to {method.value} failed: {err.message}")
    else:
        messages.success(request, f"Test {outcome['ref']} sent to {method.value}.")
