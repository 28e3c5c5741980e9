"""The guide's templates rendered for each transport.

``compose.compose(kind, ctx)`` decides what a message says; the functions
here only lay it out: plain text (the guide's own format, also the email's
text part), an email subject and HTML part (Django template, autoescaped),
a Slack Block Kit message, a PagerDuty Events API v2 event and the JSON body
of a generic webhook.

``ctx`` is ``Notification.context``: ``incident_snapshot(incident)`` with the
per-kind extras merged in (see ``compose``); drills are prefixed ``[DRILL]``.
"""

from __future__ import annotations

import json
import re

from django.template.loader import render_to_string

from .compose import DRILL_PREFIX, SNAPSHOT_KEYS, Message, compose, one_line

__all__ = [
    "PAGERDUTY_SEVERITY",
    "SNAPSHOT_KEYS",
    "compose",
    "extras",
    "html",
    "pagerduty_event",
    "slack_message",
    "subject",
    "text",
    "webhook_body",
]

# Limits of Block Kit (samples/slack/README.md) and PagerDuty Events v2.
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_CONTEXT_MAX = 2000
PAGERDUTY_SUMMARY_MAX = 1024

PAGERDUTY_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
# Which message kinds become which PagerDuty action; others are not sent
# (status updates and reminders belong in Slack/email, not in a pager).
PAGERDUTY_ACTION = {
    "initial": "trigger",
    "escalation": "trigger",
    "reopened": "trigger",
    "acknowledged": "acknowledge",
    "resolved": "resolve",
}


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def extras(ctx: dict) -> dict:
    """The per-kind extras of a context (everything but the snapshot)."""
    return {k: v for k, v in (ctx or {}).items() if k not in SNAPSHOT_KEYS}


# --- plain text and email ----------------------------------------------------------


def _text_line(line) -> str:
    if line.is_list:
        items = "\n".join(f"- {item}" for item in line.value)
        return f"{line.label}:\n{items}" if line.label else items
    return f"{line.label}: {line.value}" if line.label else str(line.value)


def render_text(message: Message) -> str:
    parts = [message.headline]
    parts += ["\n".join(_text_line(line) for line in block) for block in message.blocks]
    if message.ack_url:
        parts.append(f"Acknowledge: {message.ack_url}")
    if message.url:
        parts.append(message.url)
    return "\n\n".join(parts)


def text(kind: str, ctx: dict) -> str:
    """The guide's template as plain text: ``📊 UPDATE [+15min]: Title`` …"""
    return render_text(compose(kind, ctx))


def subject(kind: str, ctx: dict) -> str:
    """The email subject: the headline and the reference, on one line."""
    message = compose(kind, ctx)
    line = one_line(message.headline)
    if message.ref and message.ref not in line:
        line += f" [{message.ref}]"
    return _truncate(line, 250)


def html(kind: str, ctx: dict) -> str:
    """The HTML part (``notify/email.html``; user text is escaped there)."""
    message = compose(kind, ctx)
    return render_to_string("notify/email.html", {"message": message, "kind": kind})


# --- Slack -------------------------------------------------------------------------


def slack_escape(value) -> str:
    """Slack mrkdwn control characters in user text (samples/slack/README.md)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_truncate(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    # Never leave half an entity ("&am") at the cut.
    return re.sub(r"&[a-z]*$", "", cut).rstrip() + "…"


def _slack_line(line) -> str:
    label = f"*{line.label}:*" if line.label else ""
    if line.is_list:
        items = "\n".join(f"• {slack_escape(item)}" for item in line.value)
        return f"{label}\n{items}" if label else items
    value = slack_escape(line.value)
    return f"{label} {value}" if label else value


SLACK_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def _slack_mentions(values) -> str:
    """``<@U123> <@W456>`` for valid member IDs; anything else (a handle such
    as ``@bob``, or markup) is left out rather than trusted into mrkdwn."""
    ids = []
    for value in values or []:
        value = str(value).strip().lstrip("@")
        if SLACK_MEMBER_ID.fullmatch(value) and value not in ids:
            ids.append(value)
    return " ".join(f"<@{v}>" for v in ids[:20])


def slack_message(kind: str, ctx: dict) -> dict:
    """An incoming-webhook body in Block Kit, within Slack's limits.

    1. ``text`` (the notification fallback) is always set: the headline.
    2. header: the headline as plain_text, ≤150 characters.
    3. section: the template's blocks in mrkdwn, user text escaped, ≤3000.
    4. context: reference, severity, services, source.
    5. actions: an "Open incident" url button (no app interactivity needed).
    """
    message = compose(kind, ctx)
    body = "\n\n".join("\n".join(_slack_line(line) for line in block) for block in message.blocks)
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _truncate(message.headline, SLACK_HEADER_MAX),
                "emoji": True,
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _slack_truncate(body or slack_escape(message.headline), SLACK_SECTION_MAX),
            },
        },
    ]
    mentions = _slack_mentions(ctx.get("mentions"))
    if mentions:
        # Paged people with a Slack member ID get a real mention (a push to
        # their phone), not just their name in the text.
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": mentions}})
    if message.footer:
        blocks.append({
            "type": "context",
            "elements": [{"type": "mrkdwn",
                          "text": _slack_truncate(slack_escape(message.footer),
                                                  SLACK_CONTEXT_MAX)}],
        })  # fmt: skip
    if message.url:
        blocks.append({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Open incident"},
                "url": message.url,
                "action_id": "open_incident",
                "style": "primary",
            }],
        })  # fmt: skip
    fallback = message.headline
    if message.ref and message.ref not in fallback:
        fallback += f" ({message.ref})"
    return {
        "text": _slack_truncate(slack_escape(fallback), SLACK_SECTION_MAX),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


# --- PagerDuty ---------------------------------------------------------------------


def pagerduty_event(kind: str, ctx: dict, routing_key: str) -> dict | None:
    """A PagerDuty Events API v2 event, or None for kinds a pager does not need.

    ``dedup_key`` is the incident reference, so trigger, acknowledge and
    resolve land on one PagerDuty alert and a repeated delivery is dropped
    by PagerDuty itself. acknowledge/resolve carry no payload (docs).
    """
    action = PAGERDUTY_ACTION.get(kind)
    ref = ctx.get("ref")
    if action is None or not ref:
        return None
    event: dict = {"routing_key": routing_key, "event_action": action, "dedup_key": ref}
    if action != "trigger":
        return event
    message = compose(kind, ctx)
    summary = f"{'[DRILL] ' if ctx.get('is_drill') else ''}[{ctx.get('severity')}] {ref}: "
    summary += one_line(ctx.get("title"))
    if kind != "initial":
        headline = one_line(message.headline).removeprefix(DRILL_PREFIX)
        summary += " — " + headline.split(":", 1)[0]
    details = {
        "ref": ref,
        "status": ctx.get("status"),
        "severity": ctx.get("severity"),
        "summary": ctx.get("summary") or "",
        "impact": ctx.get("impact") or "",
        "services": ctx.get("services") or [],
        "commander": ctx.get("commander"),
        "responders": ctx.get("responders") or [],
        "escalation_level": ctx.get("escalation_level"),
        "is_drill": bool(ctx.get("is_drill")),
        **extras(ctx),
    }
    payload = {
        "summary": _truncate(summary, PAGERDUTY_SUMMARY_MAX),
        "source": "treebeard-ir",
        "severity": PAGERDUTY_SEVERITY.get(ctx.get("severity"), "error"),
        "custom_details": details,
        "class": "incident",
    }
    if ctx.get("detected_at"):
        payload["timestamp"] = ctx["detected_at"]
    if ctx.get("services"):
        payload["component"] = ctx["services"][0]
    event["payload"] = payload
    event["client"] = "TreeBeard IR"
    if ctx.get("url"):
        event["client_url"] = ctx["url"]
        event["links"] = [{"href": ctx["url"], "text": f"{ref} in TreeBeard IR"}]
    return event


# --- generic webhook ---------------------------------------------------------------


def webhook_body(kind: str, ctx: dict, *, delivery_id: str, timestamp: int) -> bytes:
    """The signed JSON body: the event, the delivery id (the receiver's key to
    drop a repeat), the timestamp (inside the signed bytes, against replay),
    the incident snapshot and the per-kind extras."""
    snapshot = {k: ctx[k] for k in SNAPSHOT_KEYS if k in (ctx or {})}
    document = {
        "event": f"incident.{kind}",
        "delivery_id": delivery_id,
        "timestamp": int(timestamp),
        "incident": snapshot or None,
        "data": extras(ctx),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
