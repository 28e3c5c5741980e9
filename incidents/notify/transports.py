"""Deliver one notification: Slack, email, PagerDuty or a signed webhook.

``send(notification)`` is the whole contract (after healthchecks'
transports): it either returns a small JSON-safe dict for
``Notification.response`` or raises ``TransportError`` — ``permanent`` when
retrying cannot help, ``retry_after`` when the receiver said how long to
wait. It never changes the notification's status: the outbox does.

How each receiver's answer is judged (samples/slack, samples/pagerduty):

============  ===========  ======================  =====================
transport     success      permanent               retried
============  ===========  ======================  =====================
Slack         2xx ("ok")   other 4xx (no_service…) 429 (Retry-After), 408, 5xx
PagerDuty     2xx (202)    other 4xx (400 errors)  429, 408, 5xx
webhook       2xx          other 4xx (404, 410…)   429 (Retry-After), 408, 5xx
email         accepted     5xx SMTP replies        4xx SMTP, connection, timeout
============  ===========  ======================  =====================

Timeouts, refused connections and DNS failures are retried; a destination
refused by the SSRF guard or a redirect is permanent (``notify/http.py``).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import smtplib
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from .. import clock
from ..models import ChannelKind, Notification
from . import http, messages
from .compose import BUILDERS
from .errors import TransportError

SIGNATURE_HEADER = "X-TreeBeard-Signature"
TIMESTAMP_HEADER = "X-TreeBeard-Timestamp"


# Message kinds other apps own (the status page's subscriber mail and
# webhooks): their rows go through the same outbox, claims, retries and
# log, and are sent by the owner's function, registered from its
# ``AppConfig.ready()``. ``incidents`` never imports those apps.
FOREIGN_SENDERS: dict[str, Callable[[Notification], dict]] = {}


def register(message_kind: str, sender: Callable[[Notification], dict]) -> None:
    """Send outbox rows of ``message_kind`` with ``sender`` (same contract as
    ``send``: a small dict, or ``TransportError``)."""
    FOREIGN_SENDERS[message_kind] = sender


def send(notification: Notification) -> dict:
    """Deliver ``notification`` once through its transport; see the module doc."""
    foreign = FOREIGN_SENDERS.get(notification.message_kind)
    if foreign is not None:
        return foreign(notification)
    senders = {
        ChannelKind.SLACK: _slack,
        ChannelKind.PAGERDUTY: _pagerduty,
        ChannelKind.EMAIL: _email,
        ChannelKind.WEBHOOK: _webhook,
    }
    sender = senders.get(notification.transport)
    if sender is None:
        raise TransportError(f"Unknown transport {notification.transport!r}.", permanent=True)
    if notification.message_kind not in BUILDERS:
        raise TransportError(f"Unknown message kind {notification.message_kind!r}.", permanent=True)
    return sender(notification)


# --- judging HTTP answers ----------------------------------------------------------


def retry_after(result: http.HttpResult) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), if present."""
    value = (result.headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - clock.now()).total_seconds())


def _judge(service: str, result: http.HttpResult, detail: str) -> None:
    """Raise for anything but 2xx: 429/408/5xx are retried, other 4xx are not."""
    status = result.status
    if 200 <= status < 300:
        return
    message = f"{service} answered {status}: {detail or 'no body'}"
    if status == 429:
        raise TransportError(message, retry_after=retry_after(result), status_code=status)
    if 400 <= status < 500 and status != 408:
        raise TransportError(message, permanent=True, status_code=status)
    raise TransportError(message, retry_after=retry_after(result), status_code=status)


def _json_post(
    url: str, document: dict | bytes, extra_headers: dict | None = None, *, trusted: bool = False
):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = {"Content-Type": "application/json", **(extra_headers or {})}
    return http.post(url, body=body, headers=headers, trusted=trusted)


# --- Slack -------------------------------------------------------------------------


def _slack(notification: Notification) -> dict:
    """POST a Block Kit message to an incoming webhook.

    A target that is not a URL (a member ID from a contact method) cannot
    be posted to: the outbox mentions such people in a channel instead.
    """
    url = notification.target
    parts = urlsplit(url)
    plain_ok = parts.scheme == "http" and http.within_allowed_networks(parts.hostname or "")
    if parts.scheme != "https" and not plain_ok:
        raise TransportError(
            "A Slack target must be an https:// incoming-webhook URL.", permanent=True
        )
    body = messages.slack_message(notification.message_kind, notification.context)
    result = _json_post(url, body)
    # Slack's errors are short plain-text strings: "no_service", "invalid_payload".
    _judge("Slack", result, result.text(200))
    return {"status_code": result.status, "body": result.text(100)}


# --- PagerDuty ---------------------------------------------------------------------


def _pagerduty(notification: Notification) -> dict:
    """An Events API v2 event to ``PAGERDUTY_EVENTS_URL``; the routing key is
    the target (a channel's, or a person's from a contact method)."""
    event = messages.pagerduty_event(
        notification.message_kind, notification.context, notification.target
    )
    if event is None:
        return {"skipped": f"PagerDuty needs no event for {notification.message_kind}."}
    # The operator's setting, not a user's URL: trusted (a routing key is
    # the only user input, and it travels in the body).
    result = _json_post(settings.PAGERDUTY_EVENTS_URL, event, trusted=True)
    try:
        answer = json.loads(result.body) if result.body else {}
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    errors = answer.get("errors") if isinstance(answer.get("errors"), list) else []
    detail = str(answer.get("message") or result.text(200))
    if errors:
        detail += " — " + "; ".join(str(e) for e in errors)
    _judge("PagerDuty", result, detail)
    return {
        "status_code": result.status,
        "event_action": event["event_action"],
        "dedup_key": answer.get("dedup_key") or event["dedup_key"],
        "message": str(answer.get("message") or ""),
    }


# --- email -------------------------------------------------------------------------


def message_id(idempotency_key: str) -> str:
    """A Message-ID derived from the idempotency key: a repeat after a crash
    carries the same id, so mail clients can thread or drop it."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@treebeard-ir>"


def _email(notification: Notification) -> dict:
    """A text + HTML email about an incident, composed from the row's context."""
    kind, ctx = notification.message_kind, notification.context
    headers = {"X-TreeBeard-Incident": ctx["ref"]} if ctx.get("ref") else {}
    return send_email(
        notification,
        subject=messages.subject(kind, ctx),
        text=messages.text(kind, ctx),
        html=messages.html(kind, ctx),
        headers=headers,
    )


def send_email(
    notification: Notification,
    *,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict | None = None,
    attachments: list[tuple[str, str, str]] = (),
) -> dict:
    """Send one outbox row's email (to its ``target``) through Django's mail
    (SMTP in production), with a Message-ID from its idempotency key; other
    apps' senders use it too (``register``).

    SMTP 5xx replies (unknown recipient, sender refused, rejected content)
    are permanent; 4xx replies, dropped connections and timeouts are retried.
    ``attachments``: (filename, content, mimetype), e.g. an iCalendar invitation.
    """
    mid = message_id(notification.idempotency_key)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.target],
        headers={"Message-ID": mid, **(headers or {})},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    if html is not None:
        mail.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        mail.attach(filename, content, mimetype)
    try:
        mail.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reply in exc.recipients.values()]
        raise TransportError(
            f"The mail server refused {notification.target}: {exc.recipients}",
            permanent=bool(codes) and all(code >= 500 for code in codes),
            status_code=codes[0] if codes else None,
        ) from None
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise TransportError(
            f"The mail server answered {exc.smtp_code}: {reply}",
            permanent=exc.smtp_code >= 500,
            status_code=exc.smtp_code,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransportError(f"The mail server could not be reached: {exc!r}") from None
    return {"message_id": mid}


# --- generic webhook ---------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, body)>``, the signature header's value."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    signature_header: str | None,
    timestamp_header: str | None,
    *,
    now: datetime | float,
    tolerance: int = 300,
) -> bool:
    """What a receiver does to trust a TreeBeard webhook.

    1. The signature must equal ``sign(secret, body)`` (compared in constant
       time): the body came from someone who holds the channel's secret.
    2. ``X-TreeBeard-Timestamp`` must be within ``tolerance`` seconds of now.
    3. The body's own ``timestamp`` must equal that header. The header is
       not signed, but the body is: a captured request replayed later keeps
       its old signed timestamp, so steps 2 and 3 cannot both pass.
    Receivers should also drop a ``delivery_id`` they have already seen (a
    repeat after a crash carries the same one).
    """
    expected = sign(secret, body)
    if not hmac.compare_digest(expected.encode(), (signature_header or "").encode()):
        return False
    try:
        stamp = int(str(timestamp_header).strip())
    except ValueError:
        return False
    current = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(current - stamp) > tolerance:
        return False
    try:
        signed_stamp = json.loads(body).get("timestamp")
    except (ValueError, AttributeError):
        return False
    return signed_stamp == stamp


def _webhook(notification: Notification) -> dict:
    """POST the signed JSON body (``messages.webhook_body``) to the target.

    Headers: ``X-TreeBeard-Event`` (``incident.<kind>``),
    ``X-TreeBeard-Delivery`` (the idempotency key, also ``delivery_id`` in
    the body), ``X-TreeBeard-Timestamp`` (unix seconds, also ``timestamp``
    in the body) and ``X-TreeBeard-Signature`` (see ``verify_signature``).
    """
    channel = notification.channel
    if channel is None or not channel.secret:
        raise TransportError(
            "The webhook channel (and its signing secret) is gone.", permanent=True
        )
    timestamp = int(clock.now().timestamp())
    body = messages.webhook_body(
        notification.message_kind,
        notification.context,
        delivery_id=notification.idempotency_key,
        timestamp=timestamp,
    )
    result = _json_post(notification.target, body, {
        "X-TreeBeard-Event": f"incident.{notification.message_kind}",
        "X-TreeBeard-Delivery": notification.idempotency_key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(channel.secret, body),
    })  # fmt: skip
    _judge("The webhook", result, result.text(200))
    return {"status_code": result.status, "delivery_id": notification.idempotency_key}
