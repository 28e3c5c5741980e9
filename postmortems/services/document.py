"""Editing a post-mortem: its sections, meeting, participants, reviewers and
its timeline's hand-written entries. A published post-mortem is reopened
before it is edited."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from incidents import clock
from incidents.errors import DomainError
from incidents.services.checks import check_text
from incidents.services.edits import UNSET, given

from .. import access
from ..invite import invitation
from ..models import Postmortem, PostmortemStatus, Review, TimelineEntry
from ..notices import link, notify_person

SECTION_MAX = 50_000
TEXT_SECTIONS = (
    "summary",
    "root_cause",
    "impact",
    "users_affected",
    "data_loss_details",
    "resolution",
    "what_went_well",
    "what_could_be_improved",
    "lessons_learned",
    "public_summary",
)
LIST_SECTIONS = ("contributing_factors", "services_affected")
LIST_MAX = 100


def lock(postmortem: Postmortem) -> Postmortem:
    return Postmortem.objects.select_for_update().select_related("incident").get(pk=postmortem.pk)


def require_editable(postmortem: Postmortem) -> None:
    if postmortem.status == PostmortemStatus.PUBLISHED:
        raise DomainError(
            "The post-mortem is published; reopen it before you change it.",
            field="status",
            conflict=True,
        )


def check_list(value, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DomainError(f"{field} must be a list of texts.", field=field)
    items = [" ".join(item.split()) for item in value]
    items = [item for item in items if item]
    if len(items) > LIST_MAX:
        raise DomainError(f"{field} has more than {LIST_MAX} items.", field=field)
    if any(len(item) > 1000 for item in items):
        raise DomainError(f"Each of {field} must be under 1000 characters.", field=field)
    return items


def check_people(value, field: str) -> list:
    """Usernames (or users) as active users, in one query; a 400 naming
    ``field`` for one that is not."""
    if not isinstance(value, list | tuple):
        raise DomainError(f"{field} must be a list of usernames.", field=field)
    User = get_user_model()
    names = [getattr(item, "username", item) for item in value]
    if not all(isinstance(name, str) for name in names):
        raise DomainError(f"{field} must be a list of usernames.", field=field)
    found = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    missing = [name for name in names if name not in found]
    if missing:
        raise DomainError(f"{field}: no active person {missing[0]!r}.", field=field)
    return [found[name] for name in dict.fromkeys(names)]


@transaction.atomic
def postmortem_update(
    *,
    actor,
    postmortem: Postmortem,
    summary: str = UNSET,
    root_cause: str = UNSET,
    contributing_factors: list = UNSET,
    impact: str = UNSET,
    services_affected: list = UNSET,
    users_affected: str = UNSET,
    data_loss: bool = UNSET,
    data_loss_details: str = UNSET,
    resolution: str = UNSET,
    what_went_well: str = UNSET,
    what_could_be_improved: str = UNSET,
    lessons_learned: str = UNSET,
    public_summary: str = UNSET,
    meeting_at: datetime | None = UNSET,
) -> Postmortem:
    """Change any section (Markdown text, or a list for the two lists)."""
    access.require_write(actor)
    postmortem = lock(postmortem)
    require_editable(postmortem)
    changes = given(
        summary=summary,
        root_cause=root_cause,
        contributing_factors=contributing_factors,
        impact=impact,
        services_affected=services_affected,
        users_affected=users_affected,
        data_loss=data_loss,
        data_loss_details=data_loss_details,
        resolution=resolution,
        what_went_well=what_went_well,
        what_could_be_improved=what_could_be_improved,
        lessons_learned=lessons_learned,
        public_summary=public_summary,
        meeting_at=meeting_at,
    )
    values = {}
    for field, value in changes.items():
        if field in TEXT_SECTIONS:
            values[field] = check_text(
                value, field, required=False, max_length=SECTION_MAX, error=DomainError
            )
        elif field in LIST_SECTIONS:
            values[field] = check_list(value, field)
        elif field == "data_loss":
            if not isinstance(value, bool):
                raise DomainError("data_loss must be true or false.", field=field)
            values[field] = value
        elif field == "meeting_at":
            if value is not None and not isinstance(value, datetime):
                raise DomainError("meeting_at must be a date and time.", field=field)
            values[field] = value
    data_loss_now = values.get("data_loss", postmortem.data_loss)
    details_now = values.get("data_loss_details", postmortem.data_loss_details)
    if data_loss_now and not details_now:
        raise DomainError(
            "data_loss_details is required when data_loss is true: say what was lost.",
            field="data_loss_details",
        )
    changed = [field for field, value in values.items() if getattr(postmortem, field) != value]
    for field in changed:
        setattr(postmortem, field, values[field])
    if changed:
        postmortem.updated_at = clock.now()
        postmortem.save(update_fields=[*changed, "updated_at"])
    if "meeting_at" in changed:
        invite(postmortem)
    return postmortem


def invite(postmortem: Postmortem) -> int:
    """Mail the meeting's invitation to each participant and the owner who
    has not had this one (same meeting time); returns how many were written."""
    if postmortem.meeting_at is None:
        return 0
    url = link(reverse("postmortems:detail", args=[postmortem.pk]))
    calendar = invitation(postmortem, url=url, now=clock.now())
    people = {p.pk: p for p in postmortem.participants.all()}
    if postmortem.owner is not None:
        people.setdefault(postmortem.owner.pk, postmortem.owner)
    when = f"{postmortem.meeting_at:%Y-%m-%d %H:%M} UTC"
    written = 0
    for person in people.values():
        row = notify_person(
            key=f"meeting:{postmortem.pk}:{postmortem.meeting_at.isoformat()}",
            person=person,
            incident=postmortem.incident,
            subject=f"[{postmortem.incident.ref}] Post-mortem meeting {when}",
            text=(
                f"You are invited to the blameless post-mortem meeting of "
                f"{postmortem.incident.ref} ({postmortem.incident.title}) at {when}.\n\n{url}\n"
            ),
            calendar=calendar,
        )
        written += row is not None
    return written


@transaction.atomic
def postmortem_set_people(
    *, actor, postmortem: Postmortem, participants: list = UNSET, reviewers: list = UNSET
) -> Postmortem:
    """Name the meeting's participants and the reviewers (usernames). The
    owner or a manager names reviewers; a reviewer already signed keeps the
    sign-off only while named."""
    access.require_write(actor)
    postmortem = lock(postmortem)
    require_editable(postmortem)
    if participants is not UNSET:
        postmortem.participants.set(check_people(participants, "participants"))
        invite(postmortem)
    if reviewers is not UNSET:
        access.require_lead(actor, postmortem, "name the reviewers")
        people = check_people(reviewers, "reviewers")
        if postmortem.owner_id is not None and any(p.pk == postmortem.owner_id for p in people):
            raise DomainError("The owner cannot review their own post-mortem.", field="reviewers")
        Review.objects.filter(postmortem=postmortem).exclude(reviewer__in=people).delete()
        for person in people:
            Review.objects.get_or_create(postmortem=postmortem, reviewer=person)
    postmortem.updated_at = clock.now()
    postmortem.save(update_fields=["updated_at"])
    return postmortem


@transaction.atomic
def timeline_entry_add(*, actor, postmortem: Postmortem, at: datetime, text: str) -> TimelineEntry:
    """A hand-written line of the timeline (what the record did not see)."""
    access.require_write(actor)
    postmortem = lock(postmortem)
    require_editable(postmortem)
    if not isinstance(at, datetime):
        raise DomainError("at must be a date and time.", field="at")
    text = check_text(text, "text", required=True, max_length=2000, error=DomainError)
    return TimelineEntry.objects.create(postmortem=postmortem, at=at, text=text)


@transaction.atomic
def timeline_entry_delete(*, actor, entry: TimelineEntry) -> None:
    access.require_write(actor)
    require_editable(lock(entry.postmortem))
    entry.delete()


@transaction.atomic
def postmortem_set_timeline(*, actor, postmortem: Postmortem, entries: list) -> list[TimelineEntry]:
    """Replace the timeline section: ``[{"at", "text", "event"?}, …]``. An
    entry naming one of the incident's events stays linked to it (and keeps
    its key moment); the others are hand-written lines."""
    access.require_write(actor)
    postmortem = lock(postmortem)
    require_editable(postmortem)
    if not isinstance(entries, list) or len(entries) > 1000:
        raise DomainError("timeline must be a list of {at, text} (at most 1000).", field="timeline")
    events = {
        event.pk: event
        for event in postmortem.incident.timeline.select_related("mark").filter(
            pk__in=[e.get("event") for e in entries if isinstance(e, dict) and e.get("event")]
        )
    }
    rows = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("at"), datetime):
            raise DomainError("Each timeline entry needs a time (at) and a text.", field="timeline")
        text = check_text(
            entry.get("text"), "timeline", required=True, max_length=2000, error=DomainError
        )
        event = events.get(entry.get("event"))
        if entry.get("event") and event is None:
            raise DomainError(
                f"timeline: event {entry['event']!r} is not on this incident's timeline.",
                field="timeline",
            )
        mark = getattr(event, "mark", None) if event is not None else None
        rows.append(
            TimelineEntry(
                postmortem=postmortem,
                event=event,
                at=entry["at"],
                text=text,
                moment=mark.kind if mark is not None else "",
            )
        )
    postmortem.timeline.all().delete()
    created = TimelineEntry.objects.bulk_create(rows)
    postmortem.updated_at = clock.now()
    postmortem.save(update_fields=["updated_at"])
    return created
