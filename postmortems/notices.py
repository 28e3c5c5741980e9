"""Mail to a person about their post-mortem or action item (a reminder, a
breach, an overdue item, a meeting invitation), through the notification
outbox: written in the change's transaction, delivered with retries by the
outbox's workers (its sender is registered in ``PostmortemsConfig.ready``)."""

from __future__ import annotations

from django.conf import settings

from incidents import clock
from incidents.models import ChannelKind, Incident, Notification
from incidents.notify import outbox, transports

NOTICE = "pm_notice"


def notify_person(
    *,
    key: str,
    person,
    subject: str,
    text: str,
    incident: Incident | None = None,
    calendar: str = "",
) -> Notification | None:
    """One email to ``person`` (nothing without an address); ``key`` makes
    it once per event and person. ``calendar``: an iCalendar invitation."""
    if person is None or not person.email:
        return None
    row = outbox.write_row(
        key=f"{NOTICE}:{key}:{person.pk}",
        incident=incident,
        event=None,
        recipient=person,
        transport=ChannelKind.EMAIL,
        target=person.email,
        message_kind=NOTICE,
        context={"subject": subject, "text": text, "calendar": calendar},
        status="pending",
        now=clock.now(),
    )
    if row is not None:
        outbox.dispatch_on_commit([row])
    return row


def send_notice(notification: Notification) -> dict:
    """The sender of ``pm_notice`` rows (``transports.register``)."""
    ctx = notification.context
    attachments = []
    if ctx.get("calendar"):
        attachments.append(("invite.ics", ctx["calendar"], "text/calendar; method=REQUEST"))
    return transports.send_email(
        notification,
        subject=ctx.get("subject", "TreeBeard IR"),
        text=ctx.get("text", ""),
        attachments=attachments,
    )


def link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path
