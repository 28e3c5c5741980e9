"""What each message says, in the guide's own words ("Communication Templates").

``compose(kind, ctx)`` turns a notification's context (the incident snapshot
of ``context.incident_snapshot`` plus per-kind extras, merged flat) into a
``Message``: a headline (the template's first line) and blocks of labelled
lines. ``messages.py`` renders one ``Message`` as plain text, HTML, Slack
Block Kit, … so every transport says the same thing.

Extras per kind (all optional; a missing one leaves its line out):
- update: ``message`` (the update's text), ``posted_at`` (ISO time it was posted);
- resolved: ``postmortem_due_at``;
- acknowledged: ``actor`` (who acknowledged);
- reopened: ``reason``, ``actor``;
- escalation: ``path`` ("technical" | "business"), ``level``, ``level_name``,
  ``reason``, ``paged`` (names, or dicts with ``name``);
- sla_breach: ``sla`` ("acknowledge" | "update" | "resolve" | …), ``due_at``,
  ``target_seconds``, ``late_seconds``;
- update_due: ``due_at``;
- digest: ``date`` ("YYYY-MM-DD"), ``incidents`` (list of snapshots).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from ..durations import duration
from ..guide import GUIDE_ESCALATION

# The keys of ``context.incident_snapshot``; everything else in a context is
# a per-kind extra (a test pins the two lists together).
SNAPSHOT_KEYS = (
    "ref", "title", "severity", "severity_name", "status", "status_display", "summary",
    "impact", "services", "source", "is_drill", "customer_impacting", "escalation_level",
    "business_escalation_level", "detected_at", "declared_at", "acknowledged_at",
    "identified_at", "mitigated_at", "resolved_at", "root_cause", "resolution", "commander",
    "communications_lead", "responders", "update_cadence_minutes", "url",
)  # fmt: skip

DRILL_PREFIX = "[DRILL] "


@dataclass(frozen=True)
class Line:
    """``label: value``; no label → a plain sentence; a list value → bullets."""

    label: str | None
    value: str | list[str]

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)


@dataclass
class Message:
    headline: str
    blocks: list[list[Line]] = field(default_factory=list)
    url: str | None = None
    ref: str | None = None
    # A short line for the Slack context block / email footer.
    footer: str = ""
    # A personal page's one-click acknowledge link (email only; ack_links.py).
    ack_url: str | None = None


# --- formatting helpers ----------------------------------------------------------


def one_line(value) -> str:
    """User text that must stay on one line (titles in headlines, subjects)."""
    return " ".join(str(value or "").split())


def parse_time(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def when(value) -> str:
    """``2026-11-28 14:03 UTC`` in the site's time zone."""
    moment = parse_time(value)
    if moment is None:
        return "unknown"
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def minutes_between(start, end) -> int | None:
    a, b = parse_time(start), parse_time(end)
    if a is None or b is None:
        return None
    return max(0, int((b - a).total_seconds() // 60))


def people(names) -> str:
    """``@Bob, @Carol``; names may be strings or dicts with ``name``."""
    out = []
    for item in names or []:
        name = item.get("name") if isinstance(item, dict) else item
        name = one_line(name)
        if name and f"@{name}" not in out:
            out.append(f"@{name}")
    return ", ".join(out)


def bullets(text) -> list[str]:
    """One bullet per non-empty line; a leading ``-``, ``*`` or ``•`` is dropped."""
    lines = [re.sub(r"^\s*[-*•]\s*", "", line).strip() for line in str(text or "").splitlines()]
    return [line for line in lines if line]


def severity_label(ctx: dict) -> str:
    severity = ctx.get("severity") or "?"
    name = ctx.get("severity_name")
    return f"{severity} ({name})" if name and name != severity else severity


def _headline(ctx: dict, text: str) -> str:
    return (DRILL_PREFIX if ctx.get("is_drill") else "") + text


def _title(ctx: dict) -> str:
    return one_line(ctx.get("title")) or "(untitled incident)"


def _footer(ctx: dict) -> str:
    parts = [ctx.get("ref"), severity_label(ctx) if ctx.get("severity") else None]
    if ctx.get("services"):
        parts.append("Services: " + ", ".join(ctx["services"]))
    if ctx.get("source"):
        parts.append(f"Source: {ctx['source']}")
    return " · ".join(p for p in parts if p)


def _message(ctx: dict, headline: str, blocks: list[list[Line]]) -> Message:
    return Message(
        headline=_headline(ctx, headline),
        blocks=[block for block in blocks if block],
        url=ctx.get("url"),
        ref=ctx.get("ref"),
        footer=_footer(ctx),
    )


def _basics(ctx: dict) -> list[Line]:
    return [
        Line("Severity", severity_label(ctx)),
        Line("Started", when(ctx.get("detected_at"))),
        Line("Status", ctx.get("status_display") or ctx.get("status") or "unknown"),
    ]


# --- one builder per kind ------------------------------------------------------


def _initial(ctx: dict) -> Message:
    cadence = ctx.get("update_cadence_minutes")
    roles = [Line("IC", people([ctx.get("commander")]) or "not assigned yet")]
    if ctx.get("communications_lead"):
        roles.append(Line("Comms", people([ctx["communications_lead"]])))
    roles.append(Line("Responders", people(ctx.get("responders")) or "none yet"))
    return _message(ctx, f"🚨 INCIDENT: {_title(ctx)}", [
        _basics(ctx),
        [Line(None, ctx["summary"])] if ctx.get("summary") else [],
        [Line("Impact", bullets(ctx.get("impact")) or ["Not yet known"])],
        roles,
        [Line(None, f"Updates in thread every {cadence} minutes.")] if cadence else [],
    ])  # fmt: skip


def _update(ctx: dict) -> Message:
    minutes = minutes_between(ctx.get("detected_at"), ctx.get("posted_at"))
    stamp = f" [+{minutes}min]" if minutes is not None else ""
    cadence = ctx.get("update_cadence_minutes")
    still_open = ctx.get("status") != "resolved"
    return _message(ctx, f"📊 UPDATE{stamp}: {_title(ctx)}", [
        [Line("Status", ctx.get("status_display") or ctx.get("status") or "unknown")],
        [Line(None, str(ctx["message"]).strip())] if ctx.get("message") else [],
        [Line(None, f"Next update in {cadence} minutes.")] if cadence and still_open else [],
    ])  # fmt: skip


def _resolved(ctx: dict) -> Message:
    minutes = minutes_between(ctx.get("detected_at"), ctx.get("resolved_at"))
    facts = []
    if minutes is not None:
        extra = f" ({duration(minutes * 60)})" if minutes >= 60 else ""
        facts.append(Line("Duration", f"{minutes} minutes{extra}"))
    facts += [
        Line("Root cause", ctx.get("root_cause") or "to be confirmed in the post-mortem"),
        Line("Fix", ctx.get("resolution") or "not recorded"),
    ]
    team = people(
        [ctx.get("commander"), ctx.get("communications_lead"), *(ctx.get("responders") or [])]
    )
    return _message(ctx, f"✅ RESOLVED: {_title(ctx)}", [
        facts,
        [Line("Post-mortem", f"due {when(ctx['postmortem_due_at'])}")]
        if ctx.get("postmortem_due_at") else [],
        [Line(None, f"Thanks to {team} for quick response!")] if team else [],
    ])  # fmt: skip


def level_name(path: str, level: int | None) -> str:
    """The guide's name of an escalation level ("Senior engineer")."""
    for number, name, _minute, _critical in GUIDE_ESCALATION.get(path, {}).get("levels", []):
        if number == level:
            return name
    return ""


def _escalation(ctx: dict) -> Message:
    path = ctx.get("path") or "technical"
    default_level = ctx.get(
        "business_escalation_level" if path == "business" else "escalation_level"
    )
    level = ctx.get("level") or default_level
    name = ctx.get("level_name") or level_name(path, level)
    where = " ".join(p for p in (f"L{level}" if level else "", name) if p) or "the next level"
    if path == "business":
        where += " (business)"
    verb = "📟 PAGED" if ctx.get("first_page") else "⬆️ ESCALATED to"
    return _message(ctx, f"{verb} {where}: {_title(ctx)}", [
        _basics(ctx),
        [
            Line("Why", ctx.get("reason") or "no progress within the level's time"),
            Line("Paged", people(ctx.get("paged")) or "nobody is on call for this level"),
            Line("Path", f"{path} escalation"),
        ],
    ])  # fmt: skip


def _sla_breach(ctx: dict) -> Message:
    sla = one_line(ctx.get("sla")) or "response"
    target = ctx.get("target_seconds")
    lines = [Line("Target", f"{sla} within {duration(target)}" if target else sla)]
    if ctx.get("due_at"):
        lines.append(Line("Due", when(ctx["due_at"])))
    if ctx.get("late_seconds") is not None:
        lines.append(Line("Late by", duration(ctx["late_seconds"])))
    ref = ctx.get("ref") or ""
    return _message(ctx, f"⏰ SLA BREACH: {sla} target missed on {ref} {_title(ctx)}", [
        lines,
        _basics(ctx),
    ])  # fmt: skip


def _update_due(ctx: dict) -> Message:
    cadence = ctx.get("update_cadence_minutes")
    due = f"due {when(ctx['due_at'])}" if ctx.get("due_at") else "due now"
    rule = f" (every {cadence} minutes for {ctx.get('severity')})" if cadence else ""
    return _message(ctx, f"⏳ UPDATE DUE: {_title(ctx)}", [
        [Line(None, f"A status update for {ctx.get('ref')} is {due}{rule}.")],
        _basics(ctx),
        [Line("IC", people([ctx.get("commander")]) or "not assigned yet"),
         Line("Comms", people([ctx.get("communications_lead")]) or "not assigned yet")],
    ])  # fmt: skip


def _acknowledged(ctx: dict) -> Message:
    by = people([ctx.get("actor") or ctx.get("commander")])
    at = when(ctx["acknowledged_at"]) if ctx.get("acknowledged_at") else ""
    said = " ".join(part for part in (at, f"by {by}" if by else "") if part)
    return _message(ctx, f"👀 ACKNOWLEDGED: {_title(ctx)}", [
        [Line("Acknowledged", said or "yes"), Line("Severity", severity_label(ctx))],
    ])  # fmt: skip


def _reopened(ctx: dict) -> Message:
    by = people([ctx.get("actor")])
    return _message(ctx, f"🔁 REOPENED: {_title(ctx)}", [
        _basics(ctx),
        [Line("Why", ctx["reason"])] if ctx.get("reason") else [],
        [Line("Reopened by", by)] if by else [],
    ])  # fmt: skip


def _digest(ctx: dict) -> Message:
    incidents = ctx.get("incidents") or []
    date = ctx.get("date") or ""
    count = len(incidents)
    items = [
        f"{i.get('ref')} [{i.get('status_display') or i.get('status')}] {one_line(i.get('title'))}"
        f" — detected {when(i.get('detected_at'))} — {i.get('url')}"
        for i in incidents
    ]
    plural = "incident" if count == 1 else "incidents"
    return Message(
        headline=f"📋 DIGEST {date}: {count} low-severity {plural}".replace("  ", " "),
        blocks=[[Line("P3 incidents", items)] if items else [Line(None, "No P3 incidents.")]],
        url=None,
        ref=None,
        footer="Daily digest of P3 (low) incidents, as the guide prescribes.",
    )


BUILDERS = {
    "initial": _initial,
    "update": _update,
    "resolved": _resolved,
    "escalation": _escalation,
    "sla_breach": _sla_breach,
    "update_due": _update_due,
    "acknowledged": _acknowledged,
    "reopened": _reopened,
    "digest": _digest,
}


def compose(kind: str, ctx: dict) -> Message:
    """The ``Message`` for a notification of ``kind`` (a ``MessageKind`` value)."""
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise ValueError(f"Unknown message kind {kind!r}.") from None
    message = builder(ctx or {})
    if kind in ACKNOWLEDGEABLE and (ctx or {}).get("ack_url"):
        message.ack_url = ctx["ack_url"]
    return message


# Messages that ask someone to act first: they may carry an acknowledge link.
ACKNOWLEDGEABLE = ("initial", "escalation", "reopened")
