"""Views of the public status page: on ``STATUS_PAGE_HOST`` at ``/``, and on
the main host under ``/status/``.

Every view answers through ``cache.cached_response(request, key, build)``:
``build()`` renders bytes without the request (no CSRF token, no user, no
session), so the same bytes serve every visitor and survive an outage.
Keys start with the page's root ("/" or "/status/"), because links differ
between the two hosts, and name the page and its parameters.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import get_urlconf, reverse, set_urlconf
from django.utils import timezone
from django.views.decorators.http import require_safe

from incidents import clock

from . import badge as badges
from . import feeds, ics, selectors, uptime
from .cache import cached_response
from .models import Component, ComponentStatus, MaintenanceStatus

HOST_URLCONF = "statuspage.host_urls"
HTML = "text/html; charset=utf-8"
SVG = "image/svg+xml"
CODE = re.compile(r"[a-z0-9]{1,12}")
MONTH = re.compile(r"(\d{4})-(\d{2})")
# History goes back this many months at most (bounded cache keys).
HISTORY_MONTHS = 240
# Incident names listed in a day's tooltip.
TIP_INCIDENTS = 3


def _root() -> str:
    return reverse("statuspage:home")


def _origin() -> str:
    """The canonical scheme and host of the page's absolute links."""
    if _root() == "/":
        scheme = "https" if settings.SECURE else "http"
        return f"{scheme}://{settings.STATUS_PAGE_HOST}"
    return settings.SITE_URL


def _absolute(name: str, *args) -> str:
    return _origin() + reverse(f"statuspage:{name}", args=args)


def _host() -> str:
    return _origin().split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]


def _respond(
    request: HttpRequest, key: str, build, content_type: str = HTML, valid_until=None
) -> HttpResponse:
    return cached_response(
        request, _root() + key, build, content_type=content_type, valid_until=valid_until
    )


def _render(template: str, context: dict) -> bytes:
    """HTML in the page's time zone, with what every page shows."""
    zone = uptime.page_zone()
    data = context.get("data")
    base = {
        "page_name": settings.STATUS_PAGE_NAME,
        "logo_url": settings.STATUS_PAGE_LOGO_URL,
        "links": settings.STATUS_PAGE_LINKS,
        "time_zone": settings.STATUS_PAGE_TIME_ZONE,
        # The home page read it with everything else; other pages read it here.
        "updated_at": data.updated_at if data is not None else selectors.page_state().updated_at,
    }
    with timezone.override(zone):
        return render_to_string(template, {**base, **context}).encode()


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _tip(day: uptime.Day) -> str:
    """A bar's tooltip and accessible label: the date, the uptime, the incidents."""
    lines = [_day_label(day.day)]
    if not day.has_data:
        lines.append("No data")
        return "\n".join(lines)
    lines.append(f"{uptime.percent(day.uptime)} uptime")
    names = [incident.name for incident in day.incidents]
    lines += names[:TIP_INCIDENTS]
    if len(names) > TIP_INCIDENTS:
        lines.append(f"and {len(names) - TIP_INCIDENTS} more")
    if not names:
        lines.append("No incidents" if day.down == 0 else "No public incident")
    return "\n".join(lines)


def _component_rows(components, bars) -> list[dict]:
    rows = []
    for component in components:
        history = bars[component.pk]
        rows.append(
            {
                "component": component,
                "status_label": ComponentStatus(component.status).label,
                "bars": [{"level": d.level, "tip": _tip(d)} for d in history.days],
                "uptime": uptime.percent(history.uptime),
            }
        )
    return rows


def _past_days(data, completed, zone) -> list[dict]:
    """The last ``PAST_DAYS`` days, today first, each with the incidents
    resolved and the maintenance completed on it."""
    today = data.now.astimezone(zone).date()
    days: dict[date, list] = {today - timedelta(days=i): [] for i in range(selectors.PAST_DAYS)}
    for incident in data.past_incidents:
        when = (incident.resolved_at or incident.started_at).astimezone(zone).date()
        if when in days:
            days[when].append(("incident", incident))
    for work in completed:
        when = (work.resolved_at or work.scheduled_until).astimezone(zone).date()
        if when in days:
            days[when].append(("maintenance", work))
    return [{"day": day, "entries": items} for day, items in days.items()]


def _completed_maintenances(now: datetime):
    since = now - timedelta(days=selectors.PAST_DAYS)
    return list(
        selectors.maintenances()
        .filter(status=MaintenanceStatus.COMPLETED, scheduled_until__gte=since)
        .order_by("-scheduled_until", "-id")
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    zone = uptime.page_zone()
    # The bars move on at midnight: a new day is a new copy.
    today = now.astimezone(zone).date()

    def build() -> bytes:
        data = selectors.page_data()
        groups = data.shown_groups()
        shown = [c for view in groups for c in view.components]
        bars = uptime.uptime(shown, now=data.now, tz=zone)
        context = {
            "data": data,
            "status": data.status,
            "groups": [
                {
                    "group": view.group,
                    "status": view.status,
                    "status_label": ComponentStatus(view.status).label,
                    "rows": _component_rows(view.components, bars),
                }
                for view in groups
            ],
            "past_days": _past_days(data, _completed_maintenances(data.now), zone),
            "first_day": today - timedelta(days=uptime.DAYS - 1),
            "days": uptime.DAYS,
        }
        return _render("statuspage/home.html", context)

    midnight = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    return _respond(request, f"home:{today}", build, valid_until=midnight)


def _checked_code(code: str) -> str:
    if not CODE.fullmatch(code):
        raise Http404("No such page.")
    return code


def _with_changes(updates) -> list[tuple]:
    """Each update with the component changes it made, as words
    ("API → Major outage"), from its ``affected_components`` snapshot."""
    labels = dict(ComponentStatus.choices)
    rows = []
    for update in updates:
        changes = [
            f"{item.get('name', '')} → {labels.get(item.get('new_status'), '')}"
            for item in update.affected_components or []
            if isinstance(item, dict) and item.get("old_status") != item.get("new_status")
        ]
        label = feeds.STATUS_LABEL.get(update.status, update.status.capitalize())
        rows.append((update, label, changes))
    return rows


@require_safe
def incident(request: HttpRequest, code: str) -> HttpResponse:
    """A public incident: all its updates, the components it affected, its times."""
    code = _checked_code(code)

    def build() -> bytes:
        public = selectors.public_incidents().filter(code=code).first()
        if public is None:
            raise Http404("No such incident.")
        return _render(
            "statuspage/incident.html",
            {"incident": public, "updates": _with_changes(public.updates.all())},
        )

    return _respond(request, f"incident:{code}", build)


@require_safe
def maintenance(request: HttpRequest, code: str) -> HttpResponse:
    code = _checked_code(code)

    def build() -> bytes:
        found = selectors.maintenances().filter(code=code).first()
        if found is None:
            raise Http404("No such maintenance.")
        return _render(
            "statuspage/maintenance.html",
            {"maintenance": found, "updates": _with_changes(found.updates.all())},
        )

    return _respond(request, f"maintenance:{code}", build)


def _month(request: HttpRequest, today: date) -> date:
    """The month asked for: ``?month=YYYY-MM``, or ``?page=N`` months back
    (1 = this month); within the last ``HISTORY_MONTHS`` months."""
    current = today.replace(day=1)
    index = current.year * 12 + current.month - 1
    raw_month, raw_page = request.GET.get("month"), request.GET.get("page")
    if raw_month:
        match = MONTH.fullmatch(raw_month)
        if not match or not 1 <= int(match[2]) <= 12:
            raise Http404("No such month.")
        wanted = int(match[1]) * 12 + int(match[2]) - 1
    elif raw_page:
        if not raw_page.isdigit() or not 1 <= int(raw_page) <= HISTORY_MONTHS:
            raise Http404("No such page.")
        wanted = index - int(raw_page) + 1
    else:
        wanted = index
    if not index - HISTORY_MONTHS < wanted <= index:
        raise Http404("No such month.")
    return date(wanted // 12, wanted % 12 + 1, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


@require_safe
def history(request: HttpRequest) -> HttpResponse:
    """Incidents and maintenance of one month, newest first."""
    zone = uptime.page_zone()
    today = clock.now().astimezone(zone).date()
    month = _month(request, today)

    def build() -> bytes:
        start = datetime.combine(month, datetime.min.time(), tzinfo=zone)
        end = datetime.combine(_next_month(month), datetime.min.time(), tzinfo=zone)
        incidents = list(
            selectors.public_incidents()
            .filter(started_at__gte=start, started_at__lt=end)
            .order_by("-started_at", "-id")
        )
        works = list(
            selectors.maintenances()
            .filter(scheduled_for__gte=start, scheduled_for__lt=end)
            .order_by("-scheduled_for", "-id")
        )
        items = [("incident", i, i.started_at) for i in incidents]
        items += [("maintenance", m, m.scheduled_for) for m in works]
        items.sort(key=lambda item: item[2], reverse=True)
        days: dict[date, list] = {}
        for kind, item, when in items:
            days.setdefault(when.astimezone(zone).date(), []).append((kind, item))
        previous = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
        current = today.replace(day=1)
        context = {
            "month": month,
            "days": [{"day": day, "entries": rows} for day, rows in days.items()],
            "previous": previous if _months_back(previous, current) < HISTORY_MONTHS else None,
            "next": _next_month(month) if month < current else None,
        }
        return _render("statuspage/history.html", context)

    return _respond(request, f"history:{month:%Y-%m}", build)


def _months_back(month: date, current: date) -> int:
    return (current.year - month.year) * 12 + current.month - month.month


# --- feeds, calendar, badge -------------------------------------------------


def _component(code: str) -> Component:
    found = Component.objects.filter(code=code).first()
    if found is None:
        raise Http404("No such component.")
    return found


def _feed(request: HttpRequest, kind: str, code: str | None) -> HttpResponse:
    if code is not None:
        _checked_code(code)
    _generator, content_type = feeds.FORMATS[kind]

    def build() -> bytes:
        component = _component(code) if code is not None else None
        name = settings.STATUS_PAGE_NAME
        if component is None:
            title, description = f"{name} status: history", f"Incidents and maintenance of {name}"
            feed_url = _absolute(f"history_{kind}")
        else:
            title = f"{name} status: {component.name}"
            description = f"Incidents and maintenance affecting {component.name}"
            feed_url = _absolute(f"component_history_{kind}", component.code)
        links = feeds.Links(
            home=_absolute("home"),
            feed=feed_url,
            host=_host(),
            incident=lambda c: _absolute("incident", c),
            maintenance=lambda c: _absolute("maintenance", c),
        )
        return feeds.render(
            kind,
            feeds.updates(component),
            title=title,
            description=description,
            links=links,
            updated=selectors.page_state().updated_at,
        )

    key = f"feed:{kind}" if code is None else f"feed:{kind}:{code}"
    return _respond(request, key, build, content_type)


@require_safe
def history_atom(request: HttpRequest) -> HttpResponse:
    return _feed(request, "atom", None)


@require_safe
def history_rss(request: HttpRequest) -> HttpResponse:
    return _feed(request, "rss", None)


@require_safe
def component_history_atom(request: HttpRequest, code: str) -> HttpResponse:
    return _feed(request, "atom", code)


@require_safe
def component_history_rss(request: HttpRequest, code: str) -> HttpResponse:
    return _feed(request, "rss", code)


@require_safe
def maintenance_ics(request: HttpRequest) -> HttpResponse:
    def build() -> bytes:
        return ics.calendar(
            ics.feed_maintenances(now=clock.now()),
            name=settings.STATUS_PAGE_NAME,
            link=lambda m: _absolute("maintenance", m.code),
            host=_host(),
        )

    return _respond(request, "maintenance.ics", build, ics.CONTENT_TYPE)


@require_safe
def badge(request: HttpRequest) -> HttpResponse:
    """The overall status, or ``?component=<code>``'s, as a flat SVG badge."""
    code = request.GET.get("component")
    if code is not None:
        _checked_code(code)

    def build() -> bytes:
        if code is None:
            return badges.overall_badge(
                settings.STATUS_PAGE_NAME, selectors.page_data().status.indicator
            )
        component = _component(code)
        return badges.component_badge(component.name, component.status)

    return _respond(request, "badge" if code is None else f"badge:{code}", build, SVG)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 on the status host, rendered without the request: no CSRF token, no
    session, no link into the dashboard. It may run before the status
    host's URLconf is chosen (treebeard_ir/hosts.py), so it chooses it."""
    previous = get_urlconf()
    set_urlconf(HOST_URLCONF)
    try:
        body = render_to_string(
            "statuspage/404.html",
            {"page_name": settings.STATUS_PAGE_NAME, "logo_url": settings.STATUS_PAGE_LOGO_URL},
        )
    finally:
        set_urlconf(previous)
    return HttpResponse(body, status=404)
