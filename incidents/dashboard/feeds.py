"""The public, subscribable on-call calendar: ``/oncall/<feed_token>/calendar.ics``.

Calendar apps cannot send an Authorization header, so the feed is addressed
by the schedule's secret ``feed_token`` instead of a session; a wrong token
is a plain 404 that says nothing about which schedules exist.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from ..ical import calendar_response
from ..models import Schedule


def feed_url(schedule: Schedule, user=None) -> str:
    """The public, subscribable feed of ``schedule`` (``user``: their shifts only)."""
    path = reverse("incidents:oncall-calendar", kwargs={"feed_token": schedule.feed_token})
    query = f"?{urlencode({'user': user.get_username()})}" if user is not None else ""
    return f"{settings.SITE_URL}{path}{query}"


@require_safe
def oncall_calendar(request: HttpRequest, feed_token: str) -> HttpResponse:
    """All shifts of the schedule, or with ``?user=<username>`` that person's."""
    schedule = Schedule.objects.filter(feed_token=feed_token).first()
    if schedule is None:
        raise Http404("No such calendar.")
    user = None
    if username := request.GET.get("user", "").strip():
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise Http404("No such person.")
    return calendar_response(schedule, user=user)
