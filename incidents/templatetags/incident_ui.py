"""Template helpers of the responder dashboard: Markdown, people, clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import markdown as markdown_lib
import nh3
from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from incidents import clock
from incidents.durations import duration
from incidents.engine import sla
from incidents.models import Deadline, DeadlineKind, EscalationPath
from incidents.oncall import LOOKAROUND
from incidents.people import display_name

register = template.Library()

# What a status update may contain: prose, lists, code, links and tables.
# No images: an <img> in an update would make every reader's browser fetch
# a URL of the author's choosing.
MARKDOWN_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
MARKDOWN_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
MARKDOWN_EXTENSIONS = ["fenced_code", "sane_lists", "tables", "nl2br"]

# A clock turns amber when this much of its window has gone (UI.md "Clocks count").
WARN_FRACTION = 0.8


@register.filter
def markdown(text: str | None) -> SafeString:
    """Render Markdown, then sanitise the HTML with nh3 (scripts, handlers
    and javascript: links are removed; links get rel=noopener)."""
    html = markdown_lib.markdown(text or "", extensions=MARKDOWN_EXTENSIONS)
    clean = nh3.clean(
        html,
        tags=MARKDOWN_TAGS,
        attributes=MARKDOWN_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 (sanitised by nh3 just above)


@register.filter
def person(user) -> str:
    if user is None:
        return "TreeBeard"
    return display_name(user)


@register.filter
def initials(user) -> str:
    if user is None:
        return "?"
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if first and last:
        return (first[0] + last[0]).upper()
    name = first or user.get_username()
    return name[:2].upper()


@register.filter
def span(value) -> str:
    """A timedelta as 1h 05m."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return duration(value, compact=True, precise=False)


@register.filter
def after(moment: datetime | None, start: datetime | None) -> str:
    """How long after ``start`` ``moment`` came ("3m 12s")."""
    if moment is None or start is None:
        return ""
    return duration(max((moment - start).total_seconds(), 0), compact=True)


def _absolute(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


@register.filter
def absolute(moment: datetime | None) -> str:
    return _absolute(moment) if moment else ""


def _state(due_at: datetime, starts_at: datetime | None, now: datetime) -> str:
    if now > due_at:
        return "breached"
    window = (due_at - starts_at).total_seconds() if starts_at else 0
    if window > 0 and (now - starts_at).total_seconds() >= WARN_FRACTION * window:
        return "warn"
    return "ok"


def clock_state(deadline: Deadline, now: datetime | None = None) -> str:
    """``ok``, ``warn`` (80 % of the window gone) or ``breached``."""
    return _state(deadline.due_at, deadline.starts_at, now or clock.now())


def clock_label(deadline: Deadline) -> str:
    """ "Ack", "Update", … and for escalations the level they page
    ("L2 escalation", "Business L1 escalation")."""
    if deadline.kind == DeadlineKind.ESCALATION and deadline.level:
        prefix = "Business " if deadline.path == EscalationPath.BUSINESS else ""
        return f"{prefix}L{deadline.level} escalation"
    if deadline.kind in DeadlineKind.values:
        return DeadlineKind(deadline.kind).clock_label
    # Another app's promise (a post-mortem's reminder): the name it registered.
    return sla.LABELS.get(deadline.kind, deadline.kind.replace("_", " ").capitalize())


def _text(label: str, due_at: datetime, now: datetime) -> str:
    left = (due_at - now).total_seconds()
    if left < 0:
        return f"{label} overdue by {duration(left, compact=True, precise=False)}"
    return f"{label} due in {duration(left, compact=True)}"


def clock_text(deadline: Deadline, now: datetime | None = None) -> str:
    return _text(clock_label(deadline), deadline.due_at, now or clock.now())


def _clock(*, due_at, starts_at, label: str, kind: str, extra_class: str) -> SafeString:
    now = clock.now()
    return format_html(
        '<time class="clock clock--{state} {extra}" datetime="{due}" data-due="{due}" '
        'data-start="{start}" data-label="{label}" title="{kind} due {absolute}" '
        'aria-live="off">{text}</time>',
        state=_state(due_at, starts_at, now),
        extra=extra_class,
        due=due_at.isoformat(),
        start=starts_at.isoformat() if starts_at else "",
        label=label,
        kind=kind,
        absolute=_absolute(due_at),
        text=_text(label, due_at, now),
    )


@register.simple_tag
def deadline_clock(deadline: Deadline | None, extra_class: str = "") -> SafeString:
    """A ``<time data-due>`` that clocks.js makes tick; the server renders the
    same text and colour so the page is right without JavaScript too."""
    if deadline is None:
        return mark_safe('<span class="clock clock--none">No clock running</span>')
    return _clock(
        due_at=deadline.due_at,
        starts_at=deadline.starts_at,
        label=clock_label(deadline),
        kind=deadline.get_kind_display(),
        extra_class=extra_class,
    )


@register.simple_tag
def due_clock(due_at: datetime | None, starts_at=None, label: str = "Due", extra_class: str = ""):
    """The same ticking clock for a due time that is not a deadline row of
    an incident (another app's promise, e.g. a post-mortem's 48 hours)."""
    if due_at is None:
        return mark_safe('<span class="clock clock--none">No due time</span>')
    return _clock(
        due_at=due_at, starts_at=starts_at, label=label, kind=label, extra_class=extra_class
    )


@register.simple_tag
def age(moment: datetime | None, prefix: str = "") -> SafeString:
    """Time since ``moment`` as a ticking ``<time data-since>`` ("42m")."""
    if moment is None:
        return mark_safe("—")
    seconds = (clock.now() - moment).total_seconds()
    return format_html(
        '<time class="age" datetime="{iso}" data-since="{iso}" title="{prefix}{absolute}" '
        'aria-live="off">{text}</time>',
        iso=moment.isoformat(),
        prefix=prefix,
        absolute=_absolute(moment),
        text=duration(max(seconds, 0), compact=True, precise=False),
    )


@register.simple_tag
def when(moment: datetime | None) -> SafeString:
    """An absolute time, short ("14:05:09 UTC", or with the date when it is
    not today), full in the tooltip."""
    if moment is None:
        return mark_safe('<span class="muted">—</span>')
    local = timezone.localtime(moment)
    today = timezone.localtime(clock.now()).date()
    short = local.strftime("%H:%M:%S") if local.date() == today else local.strftime("%d %b %H:%M")
    return format_html(
        '<time datetime="{iso}" title="{absolute}">{short}</time>',
        iso=moment.isoformat(),
        absolute=_absolute(moment),
        short=short,
    )


@register.filter
def first_lines(text: str | None, count: int = 2) -> str:
    """The first lines of a multi-line policy text, joined with " · "."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return " · ".join(lines[: int(count)])


@register.simple_tag
def zoned(moment: datetime | None, zone) -> SafeString:
    """A time on a schedule's own clock ("Mon 2 Mar 09:00 CET"), UTC in the
    tooltip: hand-offs are planned in the schedule's zone, not the reader's."""
    if moment is None:
        return mark_safe('<span class="muted">—</span>')
    local = moment.astimezone(zone)
    return format_html(
        '<time datetime="{iso}" title="{utc}">{short}</time>',
        iso=moment.isoformat(),
        utc=moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        short=f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}",
    )


@register.simple_tag
def shift_until(shift, zone=None) -> SafeString:
    """ "until <end>" of an on-call shift, or "no hand-off planned" when the
    shift runs past what the on-call engine looks ahead (a one-person rotation)."""
    if shift.ends_at >= clock.now() + LOOKAROUND - timedelta(minutes=1):
        return mark_safe("no hand-off planned")
    end = zoned(shift.ends_at, zone) if zone is not None else when(shift.ends_at)
    return format_html("until {}", end)


@register.filter
def shift_rows(card: dict) -> list[tuple]:
    """A schedule card's shifts as the (shift, schedule, zone) rows of
    ``_shift_table.html``, the shape the profile's shifts already have."""
    return [(shift, card["schedule"], card["zone"]) for shift in card["shifts"]]


@register.filter
def duration_short(seconds) -> str:
    """A span of seconds as people say it: "4m", "1h 05m", "2d 4h"."""
    return duration(seconds or 0, compact=True, precise=False)
