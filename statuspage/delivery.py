"""Sending subscribers' outbox rows: the senders registered for the message
kinds ``status_email`` and ``status_webhook`` (``StatuspageConfig.ready``),
called by the outbox's ``deliver`` with the same contract as incidents'
transports: a small dict, or ``TransportError`` (``permanent`` when
retrying cannot help).

- **Email**: text and HTML through Django's mail, with ``List-Unsubscribe``
  (the https link) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
  (RFC 8058), so a mail client's unsubscribe button is one POST to the link.
- **Webhook**: Statuspage's webhook body (``meta``, ``page``, and
  ``incident`` or ``component_update`` + ``component``) POSTed through the
  guarded client, signed like the channels' webhooks: ``X-TreeBeard-Signature``
  is ``sha256=HMAC(subscriber secret, body)``, ``X-TreeBeard-Timestamp`` equals
  the body's ``timestamp`` (``incidents.notify.transports.verify_signature``).
  Judged like the channel webhook: 2xx delivered; other 4xx permanent,
  except 408 and 429 (with ``Retry-After``); anything else retried.

A row whose subscriber is gone (unsubscribed, deleted) fails permanently
without sending: the links and the secret died with it.
"""

from __future__ import annotations

import json
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from incidents import clock
from incidents.models import Notification
from incidents.notify.errors import TransportError
from incidents.notify.http import HttpResult, post
from incidents.notify.transports import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    message_id,
    retry_after,
    sign,
)

from .models import Subscriber, SubscriberDelivery
from .services.notify import page_name, stamp
from .services.subscribers import public_url

TEMPLATES = ("confirm", "incident", "component", "maintenance")
EVENT_HEADER = "X-TreeBeard-Event"
DELIVERY_HEADER = "X-TreeBeard-Delivery"


def _subscriber(notification: Notification) -> Subscriber:
    delivery = (
        SubscriberDelivery.objects.select_related("subscriber")
        .filter(notification=notification)
        .first()
    )
    if delivery is None:
        raise TransportError(
            "The subscriber is gone (unsubscribed or deleted); nothing was sent.", permanent=True
        )
    return delivery.subscriber


# --- email -------------------------------------------------------------------------------


def _subject(context: dict) -> str:
    name = page_name()
    if context.get("template") == "confirm":
        return f"Confirm your subscription to {name} status updates"
    return f"[{name} status] {context.get('subject', 'Status update')}"[:200]


def email_message(notification: Notification) -> EmailMultiAlternatives:
    """The mail a row stands for (built from its public snapshot only)."""
    context = dict(notification.context)
    template = context.get("template")
    if template not in TEMPLATES:
        raise TransportError(f"Unknown status email template {template!r}.", permanent=True)
    context["page_name"] = page_name()
    context["page_url"] = public_url("/")
    unsubscribe = context.get("unsubscribe_url", "")
    headers = {"Message-ID": message_id(notification.idempotency_key)}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail = EmailMultiAlternatives(
        subject=_subject(context),
        body=render_to_string(f"statuspage/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.target],
        headers=headers,
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    html = render_to_string(f"statuspage/email/{template}.html", context)
    mail.attach_alternative(html, "text/html")
    return mail


def send_email(notification: Notification) -> dict:
    """Send one subscriber mail. SMTP 5xx replies are permanent; 4xx
    replies, dropped connections and timeouts are retried."""
    _subscriber(notification)
    mail = email_message(notification)
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
        reply = exc.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        raise TransportError(
            f"The mail server answered {exc.smtp_code}: {reply}",
            permanent=exc.smtp_code >= 500,
            status_code=exc.smtp_code,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransportError(f"The mail server could not be reached: {exc!r}") from None
    return {"message_id": mail.extra_headers["Message-ID"]}


# --- webhook -----------------------------------------------------------------------------


def webhook_body(notification: Notification, *, timestamp: int) -> dict:
    """Statuspage's webhook body for a row, plus ``timestamp`` and
    ``delivery_id`` (signed with it, for replay checks)."""
    context = notification.context
    page = context.get("page") or {}
    body: dict = {
        "meta": {
            "unsubscribe": context.get("unsubscribe_url", ""),
            "documentation": context.get("manage_url") or public_url("/subscribe"),
            "generated_at": stamp(clock.now()),
        },
        "page": {
            "id": page.get("id"),
            "status_indicator": page.get("status_indicator"),
            "status_description": page.get("status_description"),
        },
    }
    if "component_update" in context:
        body["component_update"] = context["component_update"]
        body["component"] = context["component"]
    else:
        body["incident"] = context["incident"]
    body["timestamp"] = timestamp
    body["delivery_id"] = notification.idempotency_key
    return body


def _judge(result: HttpResult) -> None:
    """Raise for anything but 2xx: 429/408/5xx are retried, other 4xx are not."""
    status = result.status
    if 200 <= status < 300:
        return
    message = f"The webhook answered {status}: {result.text(200) or 'no body'}"
    if 400 <= status < 500 and status not in (408, 429):
        raise TransportError(message, permanent=True, status_code=status)
    raise TransportError(message, retry_after=retry_after(result), status_code=status)


def send_webhook(notification: Notification) -> dict:
    """POST the signed body to the subscriber's endpoint through the guard."""
    subscriber = _subscriber(notification)
    timestamp = int(clock.now().timestamp())
    document = webhook_body(notification, timestamp=timestamp)
    body = json.dumps(document).encode()
    kind = "component_update" if "component_update" in document else "incident"
    result = post(
        notification.target,
        body=body,
        headers={
            "Content-Type": "application/json",
            EVENT_HEADER: f"status.{kind}",
            DELIVERY_HEADER: notification.idempotency_key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(subscriber.secret, body),
        },
    )
    _judge(result)
    return {"status_code": result.status, "delivery_id": notification.idempotency_key}
