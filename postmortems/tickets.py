"""Action items as tickets in a tracker, through the notification outbox.

``action_item_create_ticket`` (services) writes one outbox row of kind
``pm_ticket`` in its transaction; after commit the outbox's workers call
``send_ticket`` (registered in ``PostmortemsConfig.ready``), with the same
claims, retries and backoff as every notification. The row's context holds
what the request says, never the token: the sender reads the tracker by id
when it sends, so a rotated token is used at once and no credential sits in
the outbox.

Each tracker's real REST API, over the guarded client (notify/http.py):

- GitHub Issues: ``POST {base_url}/repos/{owner}/{repo}/issues`` with a
  bearer token, ``{"title", "body"}`` → 201 with ``html_url`` and ``state``;
- Jira: ``POST {base_url}/rest/api/2/issue`` with basic auth
  ``username:token``, ``{"fields": {"project": {"key"}, "summary",
  "description", "issuetype": {"name": "Task"}}}`` → 201 with ``key``,
  the ticket being ``{base_url}/browse/{key}``;
- webhook: a JSON body signed as the channels' webhooks are
  (``X-TreeBeard-Signature``, ``X-TreeBeard-Timestamp``); a ``url`` in the
  answer, if any, is the ticket.

2xx is success; 429, 408 and 5xx (and GitHub's 403 with its rate limit
spent) are retried; any other 4xx is permanent. Until a ticket exists the
item reads "pending" or "failed" with the last error (``ticket_states``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import quote

from django.urls import reverse

from incidents import clock
from incidents.models import Notification, NotificationStatus
from incidents.notify import http, transports
from incidents.notify.errors import TransportError
from incidents.people import display_name

from .models import ActionItem, Tracker, TrackerKind
from .notices import link

TICKET = "pm_ticket"
STATE_MAX = ActionItem._meta.get_field("ticket_state").max_length
URL_MAX = ActionItem._meta.get_field("ticket_url").max_length
WEBHOOK_EVENT = "action_item.ticket"


# --- what the row says -------------------------------------------------------------


def context_for(item: ActionItem, tracker: Tracker) -> dict:
    """The outbox row's context: the item as the ticket shows it (no token)."""
    postmortem = item.postmortem
    incident = postmortem.incident
    url = link(reverse("postmortems:detail", args=[postmortem.pk]))
    owner = display_name(item.owner) if item.owner_id else "nobody"
    due = item.due_date.isoformat() if item.due_date else "—"
    body = (
        f"Action item of the post-mortem of {incident.ref} ({incident.title}).\n\n"
        f"- Owner: {owner}\n- Due: {due}\n- Priority: {item.get_priority_display()}\n"
        f"- Kind: {item.get_kind_display()}\n\nPost-mortem: {url}\n"
    )
    return {
        "action_item": item.pk,
        "tracker": tracker.pk,
        "title": item.title,
        "body": body,
        "item": {
            "id": item.pk,
            "title": item.title,
            "owner": item.owner.get_username() if item.owner_id else None,
            "due_date": item.due_date.isoformat() if item.due_date else None,
            "priority": item.priority,
            "kind": item.kind,
            "status": item.status,
            "postmortem": postmortem.pk,
            "incident": incident.ref,
            "url": url,
        },
    }


# --- the requests ------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """What the tracker answered: the ticket's URL (may be empty for a
    webhook) and its state when it says one."""

    url: str
    state: str = ""


def _answer(result: http.HttpResult) -> dict:
    try:
        answer = json.loads(result.body) if result.body else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _web_url(value) -> str:
    """A URL fit to link to (http or https), else ""."""
    fit = (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and len(value) <= URL_MAX
        and not any(ord(c) <= 0x20 for c in value)
    )
    return value if fit else ""


def _github(tracker: Tracker, notification: Notification) -> Created:
    ctx = notification.context
    owner, _, repo = tracker.project.partition("/")
    url = f"{tracker.base_url}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/issues"
    body = json.dumps({"title": ctx["title"], "body": ctx["body"]}).encode()
    result = http.post(url, body=body, headers={
        "Content-Type": "application/json",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "Authorization": f"Bearer {tracker.token}",
    })  # fmt: skip
    _judge("GitHub", result)
    answer = _answer(result)
    html_url = _web_url(answer.get("html_url"))
    if not html_url:
        raise TransportError(
            f"GitHub answered {result.status} without the issue's html_url.", permanent=True
        )
    return Created(html_url, str(answer.get("state") or "open")[:STATE_MAX])


def _jira(tracker: Tracker, notification: Notification) -> Created:
    ctx = notification.context
    fields = {
        "project": {"key": tracker.project},
        "summary": ctx["title"][:255],  # Jira's limit for a summary
        "description": ctx["body"],
        "issuetype": {"name": "Task"},
    }
    pair = f"{tracker.username}:{tracker.token}".encode()
    result = http.post(
        f"{tracker.base_url}/rest/api/2/issue",
        body=json.dumps({"fields": fields}).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
        },
    )
    _judge("Jira", result)
    key = _answer(result).get("key")
    if not isinstance(key, str) or not key or "/" in key:
        raise TransportError(
            f"Jira answered {result.status} without the issue's key.", permanent=True
        )
    return Created(f"{tracker.base_url}/browse/{quote(key)}")


def _webhook(tracker: Tracker, notification: Notification) -> Created:
    if not tracker.secret:
        raise TransportError("The webhook tracker has no signing secret.", permanent=True)
    timestamp = int(clock.now().timestamp())
    document = {
        "event": WEBHOOK_EVENT,
        "delivery_id": notification.idempotency_key,
        "timestamp": timestamp,
        "title": notification.context["title"],
        "body": notification.context["body"],
        "action_item": notification.context["item"],
    }
    body = json.dumps(document).encode()
    result = http.post(tracker.base_url, body=body, headers={
        "Content-Type": "application/json",
        "X-TreeBeard-Event": WEBHOOK_EVENT,
        "X-TreeBeard-Delivery": notification.idempotency_key,
        transports.TIMESTAMP_HEADER: str(timestamp),
        transports.SIGNATURE_HEADER: transports.sign(tracker.secret, body),
    })  # fmt: skip
    _judge("The webhook", result)
    answer = _answer(result)
    return Created(_web_url(answer.get("url")), str(answer.get("state") or "")[:STATE_MAX])


REQUESTS = {
    TrackerKind.GITHUB: _github,
    TrackerKind.JIRA: _jira,
    TrackerKind.WEBHOOK: _webhook,
}


def _detail(result: http.HttpResult) -> str:
    """The tracker's own words: GitHub's ``message``, Jira's ``errorMessages``
    and ``errors``, else the start of the body."""
    answer = _answer(result)
    words = []
    if isinstance(answer.get("message"), str):
        words.append(answer["message"])
    if isinstance(answer.get("errorMessages"), list):
        words.extend(str(m) for m in answer["errorMessages"])
    if isinstance(answer.get("errors"), dict):
        words.extend(f"{k}: {v}" for k, v in answer["errors"].items())
    return "; ".join(words)[:300] or result.text(200) or "no body"


def _judge(service: str, result: http.HttpResult) -> None:
    """Raise for anything but 2xx: 429, 408, 5xx (and a spent GitHub rate
    limit, a 403) are retried; other 4xx are permanent."""
    status = result.status
    if 200 <= status < 300:
        return
    message = f"{service} answered {status}: {_detail(result)}"
    wait = transports.retry_after(result)
    rate_limited = status == 403 and result.headers.get("x-ratelimit-remaining") == "0"
    if 400 <= status < 500 and status not in (408, 429) and not rate_limited:
        raise TransportError(message, permanent=True, status_code=status)
    raise TransportError(message, retry_after=wait, status_code=status)


def send_ticket(notification: Notification) -> dict:
    """The sender of ``pm_ticket`` rows (``transports.register``).

    1. Read the item and the tracker by id (the token is read now).
    2. An item that has its ticket already (an earlier attempt made it) is done.
    3. POST to the tracker's API; ``_judge`` raises for failures.
    4. Store the ticket's URL and state on the item.
    """
    ctx = notification.context
    item = ActionItem.objects.filter(pk=ctx.get("action_item")).first()
    if item is None:
        raise TransportError("The action item is gone.", permanent=True)
    if item.ticket_url:
        return {"skipped": "The item has a ticket already.", "ticket_url": item.ticket_url}
    tracker = Tracker.objects.filter(pk=ctx.get("tracker")).first()
    if tracker is None:
        raise TransportError("The tracker is gone; create the ticket again.", permanent=True)
    if not tracker.enabled:
        raise TransportError(f"The tracker {tracker.name} is disabled.", permanent=True)
    created = REQUESTS[tracker.kind](tracker, notification)
    ActionItem.objects.filter(pk=item.pk).update(
        ticket_url=created.url,
        ticket_state=created.state,
        tracker=tracker,
        updated_at=clock.now(),
    )
    return {"ticket_url": created.url, "ticket_state": created.state}


# --- reading the ticket's state ------------------------------------------------------


@dataclass(frozen=True)
class TicketState:
    state: str  # "", "pending", "failed", "sent", or the tracker's word
    error: str = ""


def ticket_rows(item_ids) -> dict[int, Notification]:
    """The latest ticket request of each item, in one query."""
    ids = [pk for pk in item_ids if pk is not None]
    if not ids:
        return {}
    rows = Notification.objects.filter(message_kind=TICKET, context__action_item__in=ids)
    latest: dict[int, Notification] = {}
    for row in rows.order_by("id").only("id", "status", "last_error", "context"):
        latest[row.context.get("action_item")] = row
    return latest


def state_of(item: ActionItem, row: Notification | None) -> TicketState:
    """What the item shows of its ticket: the tracker's state once it
    exists; until then the request's ("pending", or "failed" with the error)."""
    if item.ticket_url:
        return TicketState(item.ticket_state or "created")
    if row is None:
        return TicketState("")
    if row.status == NotificationStatus.DELIVERED:
        return TicketState(item.ticket_state or "sent")
    if row.status == NotificationStatus.FAILED:
        return TicketState("failed", row.last_error)
    return TicketState("pending", row.last_error)


def ticket_states(items) -> dict[int, TicketState]:
    rows = ticket_rows([item.pk for item in items])
    return {item.pk: state_of(item, rows.get(item.pk)) for item in items}
