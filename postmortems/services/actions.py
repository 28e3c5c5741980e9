"""Action items: the follow-ups a post-mortem commits to, each with an owner
and a due date, reminded before it and reported when it passes.

Responders add and change them (``access.require_write``), on a published
post-mortem too: the follow-through happens after publishing, so closing an
item, moving its date or linking its ticket never needs a reopening.

What time does to an open item is two deadline rows (subject
``action_item:<id>``, incident = the post-mortem's): a reminder to the owner
``ACTION_ITEM_REMINDER_DAYS`` before the due date, and the overdue notice at
the end of the due date (UTC); postmortems/engine.py fires them. A new due
date rewrites them; done or won't do meets them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from incidents import clock
from incidents.engine import deadlines
from incidents.errors import DomainError
from incidents.models import ChannelKind, DeadlineKind, Notification, NotificationStatus
from incidents.notify import outbox
from incidents.services.checks import check_choice, check_text
from incidents.services.edits import UNSET, given

from .. import access, tickets
from ..models import ActionItem, ActionKind, ActionStatus, Postmortem, Priority, Tracker
from .document import lock

# Deadline kinds: the reminder (ours) and the overdue notice (incidents').
REMINDER = "ai_reminder"
OVERDUE = DeadlineKind.ACTION_ITEM
TITLE_MAX = ActionItem._meta.get_field("title").max_length
URL_MAX = ActionItem._meta.get_field("ticket_url").max_length
CLOSED = (ActionStatus.DONE, ActionStatus.WONT_DO)


def subject(item: ActionItem) -> str:
    return f"action_item:{item.pk}"


def overdue_at(due_date: date) -> datetime:
    """An item is overdue once its due date has ended (UTC)."""
    return datetime.combine(due_date + timedelta(days=1), time.min, tzinfo=UTC)


def today() -> date:
    return clock.now().astimezone(UTC).date()


def schedule(item: ActionItem, now: datetime) -> None:
    """(Re)write the promises of an open item; a closed one's are met.

    1. Done or won't do: the pending rows are met now.
    2. Otherwise the pending rows are cancelled and written again from the
       due date: the reminder (when still ahead) and the overdue notice.
    """
    about = subject(item)
    if item.status in CLOSED:
        deadlines.meet_for(about, now)
        return
    deadlines.cancel_for(about, now)
    if item.due_date is None:
        return
    incident = item.postmortem.incident
    due = overdue_at(item.due_date)
    remind_at = due - timedelta(days=settings.ACTION_ITEM_REMINDER_DAYS)
    if settings.ACTION_ITEM_REMINDER_DAYS and remind_at > now:
        deadlines.schedule_for(
            kind=REMINDER, due_at=remind_at, now=now, subject=about, incident=incident
        )
    row = deadlines.schedule_for(
        kind=OVERDUE,
        due_at=due,
        now=now,
        subject=about,
        incident=incident,
        starts_at=min(item.created_at, due),
    )
    row.target_seconds = int((due - row.starts_at).total_seconds())
    row.save(update_fields=["target_seconds"])


# --- the rules ---------------------------------------------------------------------


def check_owner(value):
    """A user or a username, of an active person; a 400 naming ``owner``."""
    if value is None or value == "":
        raise DomainError("owner is required: who will do it?", field="owner")
    username = getattr(value, "username", value)
    if not isinstance(username, str):
        raise DomainError("owner must be a username.", field="owner")
    person = get_user_model().objects.filter(username=username, is_active=True).first()
    if person is None:
        raise DomainError(f"owner: no active person {username!r}.", field="owner")
    return person


def check_due_date(value, *, new: bool) -> date:
    if value is None:
        raise DomainError("due_date is required: when will it be done?", field="due_date")
    if isinstance(value, datetime) or not isinstance(value, date):
        raise DomainError("due_date must be a date (YYYY-MM-DD).", field="due_date")
    if new and value < today():
        raise DomainError(
            f"due_date {value.isoformat()} is in the past; a new item is due today or later.",
            field="due_date",
        )
    return value


def check_ticket_url(value) -> str:
    value = check_text(value, "ticket_url", required=False, max_length=URL_MAX, error=DomainError)
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise DomainError(
                "ticket_url must be an http:// or https:// URL.", field="ticket_url"
            ) from None
    return value


def _checked(changes: dict, *, new: bool) -> dict:
    """The values to store, each checked by its field's rule."""
    values = {}
    for field, value in changes.items():
        if field == "title":
            values[field] = check_text(
                value, "title", required=True, max_length=TITLE_MAX, error=DomainError
            )
        elif field == "owner":
            values[field] = check_owner(value)
        elif field == "due_date":
            values[field] = check_due_date(value, new=new)
        elif field == "priority":
            values[field] = check_choice(value, Priority, "priority", error=DomainError)
        elif field == "status":
            values[field] = check_choice(value, ActionStatus, "status", error=DomainError)
        elif field == "kind":
            values[field] = check_choice(value, ActionKind, "kind", error=DomainError)
        elif field == "ticket_url":
            values[field] = check_ticket_url(value)
    return values


def _done_at(status: str, was: datetime | None, now: datetime) -> datetime | None:
    if status == ActionStatus.DONE:
        return was or now
    return None


# --- the changes -------------------------------------------------------------------


@transaction.atomic
def action_item_add(
    *,
    actor,
    postmortem: Postmortem,
    title: str,
    owner,
    due_date: date,
    priority: str = Priority.MEDIUM,
    kind: str = ActionKind.FIX,
    status: str = ActionStatus.OPEN,
    ticket_url: str = "",
) -> ActionItem:
    """A new follow-up of ``postmortem`` (draft, in review or published):
    owned by an active person, due today or later."""
    access.require_write(actor)
    postmortem = lock(postmortem)
    values = _checked(
        {
            "title": title,
            "owner": owner,
            "due_date": due_date,
            "priority": priority,
            "kind": kind,
            "status": status,
            "ticket_url": ticket_url,
        },
        new=True,
    )
    now = clock.now()
    item = ActionItem.objects.create(
        postmortem=postmortem,
        created_at=now,
        updated_at=now,
        done_at=_done_at(values["status"], None, now),
        **values,
    )
    schedule(item, now)
    return item


@transaction.atomic
def action_item_update(
    *,
    actor,
    item: ActionItem,
    title: str = UNSET,
    owner=UNSET,
    due_date: date = UNSET,
    priority: str = UNSET,
    kind: str = UNSET,
    status: str = UNSET,
    ticket_url: str = UNSET,
) -> ActionItem:
    """Change an item, of a published post-mortem too (the follow-through
    comes after publishing). A due date may be in the past here (an item
    late already); a new one rewrites the reminder and the overdue notice.
    Done stamps ``done_at``; done or won't do meets both promises, and
    opening it again brings them back."""
    access.require_write(actor)
    item = (
        ActionItem.objects.select_for_update()
        .select_related("postmortem__incident")
        .get(pk=item.pk)
    )
    values = _checked(
        given(
            title=title,
            owner=owner,
            due_date=due_date,
            priority=priority,
            kind=kind,
            status=status,
            ticket_url=ticket_url,
        ),
        new=False,
    )
    now = clock.now()
    was_open = item.is_open
    if "status" in values:
        values["done_at"] = _done_at(values["status"], item.done_at, now)
    changed = [field for field, value in values.items() if getattr(item, field) != value]
    for field in changed:
        setattr(item, field, values[field])
    if changed:
        item.updated_at = now
        item.save(update_fields=[*changed, "updated_at"])
    # Between open and in progress the promises stand as they are (an
    # overdue notice already sent is not sent again).
    if "due_date" in changed or item.is_open != was_open:
        schedule(item, now)
    return item


@transaction.atomic
def action_item_delete(*, actor, item: ActionItem) -> None:
    """Remove an item (added by mistake); its promises are cancelled."""
    access.require_write(actor)
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    deadlines.cancel_for(subject(item), clock.now())
    item.delete()


@transaction.atomic
def action_item_create_ticket(*, actor, item: ActionItem, tracker: Tracker) -> Notification:
    """Send the item to ``tracker`` as a ticket: one outbox row written now
    and sent after commit by ``tickets.send_ticket``, retried until the
    tracker takes it. Refused while the item has a ticket, or a request for
    one is still on its way; a request that failed for good may be made again."""
    access.require_write(actor)
    item = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("postmortem__incident", "owner")
        .get(pk=item.pk)
    )
    tracker = Tracker.objects.filter(pk=getattr(tracker, "pk", None)).first()
    if tracker is None:
        raise DomainError("No such tracker.", field="tracker")
    if not tracker.enabled:
        raise DomainError(f"The tracker {tracker.name} is disabled.", field="tracker")
    if item.ticket_url:
        raise DomainError(
            f"The item has a ticket already: {item.ticket_url}", field="tracker", conflict=True
        )
    earlier = tickets.ticket_rows([item.pk]).get(item.pk)
    waiting = (NotificationStatus.PENDING, NotificationStatus.SENDING)
    if earlier is not None and earlier.status in waiting:
        raise DomainError(
            "A ticket for this item is on its way already (it is retried until the "
            "tracker takes it).",
            field="tracker",
            conflict=True,
        )
    now = clock.now()
    attempts = Notification.objects.filter(
        message_kind=tickets.TICKET, context__action_item=item.pk
    ).count()
    row = outbox.write_row(
        key=f"{tickets.TICKET}:{item.pk}:{attempts + 1}",
        incident=item.postmortem.incident,
        event=None,
        transport=ChannelKind.WEBHOOK,
        target=tracker.base_url,
        message_kind=tickets.TICKET,
        context=tickets.context_for(item, tracker),
        status=NotificationStatus.PENDING,
        now=now,
    )
    if row is None:  # the same key written by a concurrent request
        raise DomainError("A ticket for this item is on its way already.", conflict=True)
    item.tracker = tracker
    item.ticket_state = ""
    item.updated_at = now
    item.save(update_fields=["tracker", "ticket_state", "updated_at"])
    outbox.dispatch_on_commit([row])
    return row
