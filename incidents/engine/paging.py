"""Nobody paged is never silent: who a level's page reaches, what the
timeline says when it reaches nobody, and what became of each page.

A person is *paged* when TreeBeard writes a page addressed to them: an
enabled email or PagerDuty contact method (``outbox.CONTACT_TRANSPORT``).
A Slack member ID is only mentioned in a channel's message, and channel
messages are not pages of a person, so someone reachable by Slack alone is
"nobody reachable" (the mention is still listed as a way they heard of it).

``escalation`` asks ``reachable`` before it writes the level's event, so the
event can say who is paged; ``skip_note`` words the levels passed over for
the timeline, the incident header and the board row (from the event's
``detail``, one place for all three). The pages' delivery states are read
back from the outbox rows (``delivery_states``), never from the event: the
timeline is append-only, the rows move from queued to delivered or failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import (
    ContactKind,
    ContactMethod,
    EscalationPath,
    Incident,
    Notification,
    NotificationStatus,
)
from ..notify import outbox
from ..people import display_name

NOBODY_ON_CALL = "nobody_on_call"
NOBODY_REACHABLE = "nobody_reachable"
WHY = {
    NOBODY_ON_CALL: "nobody on call",
    NOBODY_REACHABLE: "nobody reachable (contact methods paused or missing)",
}
# How a contact method is named to people ("by email and Slack").
METHOD_NAMES = {
    ContactKind.EMAIL: "email",
    ContactKind.PAGERDUTY: "PagerDuty",
    ContactKind.SLACK: "Slack",
}
DIRECT = {ContactKind.EMAIL, ContactKind.PAGERDUTY}


def reachable(incident: Incident, people: Iterable, *, mentioned: bool) -> list[dict]:
    """The people among ``people`` a page reaches, each as
    ``{"username", "name", "methods"}`` (method kinds, direct ones first).

    1. Their enabled contact methods, in one query.
    2. Email counts unless the incident's email cap is reached; PagerDuty
       always.
    3. Slack is added for someone paged directly when the level's message
       goes to a Slack channel (``mentioned``); alone it pages nobody.
    """
    people = [p for p in people if p is not None]
    if not people:
        return []
    methods: dict[int, set[str]] = {}
    rows = ContactMethod.objects.filter(user__in=people, enabled=True).values_list(
        "user_id", "kind"
    )
    for user_id, kind in rows:
        methods.setdefault(user_id, set()).add(kind)
    if any(ContactKind.EMAIL in kinds for kinds in methods.values()) and outbox.email_capped(
        incident
    ):
        for kinds in methods.values():
            kinds.discard(ContactKind.EMAIL)
    found = []
    for person in people:
        kinds = methods.get(person.pk, set())
        if not kinds & DIRECT:
            continue
        order = [ContactKind.EMAIL, ContactKind.PAGERDUTY]
        if mentioned:
            order.append(ContactKind.SLACK)
        found.append(
            {
                "username": person.get_username(),
                "name": display_name(person),
                "methods": [str(k) for k in order if k in kinds],
            }
        )
    return found


def why_nobody(people: list) -> str:
    return NOBODY_ON_CALL if not people else NOBODY_REACHABLE


def _where(path: str, level: int) -> str:
    return f"Business L{level}" if path == EscalationPath.BUSINESS else f"L{level}"


def level_label(path: str, level: int, name: str = "") -> str:
    """A level as people name it: "L2 Senior engineer", "Business L1 …"."""
    return f"{_where(path, level)} {name}".strip()


def _skipped_text(path: str, skipped: list[dict]) -> str:
    return "; ".join(f"{_where(path, s['level'])}: {WHY[s['why']]}" for s in skipped)


def skip_note(path: str, skipped: list[dict], *, paged_at: str | None, names: list[str]) -> str:
    """The note of levels passed over: "L1: nobody on call — paged L2
    Senior engineer: sam", or, when no
    level of the path reached anyone, "… — nobody could be paged on the
    technical path". ``paged_at`` is the label of the level that was paged."""
    parts = _skipped_text(path, skipped)
    if paged_at is None:
        return f"{parts} — nobody could be paged on the {path} path"
    return f"{parts} — paged {paged_at}: {', '.join(names)}"


def _methods_text(methods: list[str]) -> str:
    named = [METHOD_NAMES.get(m, m) for m in methods]
    if len(named) <= 1:
        return "".join(named)
    return ", ".join(named[:-1]) + " and " + named[-1]


def paged_sentence(paged: list[dict]) -> str:
    """Who was paged and how: "Sam Senior by email and Slack, Dana by PagerDuty"."""
    return ", ".join(f"{p['name']} by {_methods_text(p['methods'])}" for p in paged)


def outcome(event) -> dict:
    """What a paging event did, for the flash message and the API answer:
    ``{"path", "level", "level_name", "paged": [...], "skipped": [...],
    "nobody_paged", "note"}``."""
    detail = (event.detail if event is not None else None) or {}
    return {
        "path": detail.get("path", ""),
        "level": detail.get("level"),
        "level_name": detail.get("level_name", ""),
        "paged": list(detail.get("paged", [])),
        "skipped": list(detail.get("skipped", [])),
        "nobody_paged": bool(detail.get("nobody_paged")),
        "note": detail.get("paging_note", ""),
    }


def escalated_sentence(result: dict) -> str:
    """The flash after a manual escalation: who was paged and how, or that
    nobody was ("Escalated to L2: nobody on call — paged L3 …: Mia by email.")."""
    path, skipped = result["path"], result["skipped"]
    level = skipped[0]["level"] if skipped else result["level"]
    where = _where(path, level or 0)
    if path == EscalationPath.BUSINESS:
        where = "business" + where[len("Business") :]
    if not skipped:
        name = f" {result['level_name']}" if result["level_name"] else ""
        if not result["paged"]:
            return f"Escalated to {where}{name}: nobody was paged."
        return f"Escalated to {where}{name}: paged {paged_sentence(result['paged'])}."
    text = f"Escalated to {where}: {WHY[skipped[0]['why']]}"
    if len(skipped) > 1:
        text += "; " + _skipped_text(path, skipped[1:])
    if result["nobody_paged"]:
        return f"{text} — nobody could be paged on the {path} path."
    label = level_label(path, result["level"], result["level_name"])
    return f"{text} — paged {label}: {paged_sentence(result['paged'])}."


# --- what became of the pages -----------------------------------------------------

STATE_WORDS = {
    NotificationStatus.PENDING: "queued",
    NotificationStatus.SENDING: "queued",
    NotificationStatus.DELIVERED: "delivered",
    NotificationStatus.FAILED: "failed",
    NotificationStatus.SUPPRESSED: "not sent (email cap)",
}


@dataclass(frozen=True)
class PageState:
    """One page of one person through one method, as the outbox row says now."""

    name: str
    method: str
    state: str
    error: str

    @property
    def waiting(self) -> bool:
        return self.state.startswith("queued")

    @property
    def css(self) -> str:
        return {"delivered": "met", "failed": "late"}.get(self.state, "queued")


def _state(row: Notification) -> PageState:
    word = STATE_WORDS.get(row.status, row.get_status_display().lower())
    if row.status == NotificationStatus.PENDING and row.attempts:
        word = f"queued (retry {row.attempts})"
    return PageState(
        name=display_name(row.recipient) if row.recipient else row.context.get("recipient", ""),
        method=METHOD_NAMES.get(row.transport, row.transport),
        state=word,
        error=row.last_error if row.status == NotificationStatus.FAILED else "",
    )


def delivery_states(incident: Incident) -> tuple[dict, dict]:
    """The state of every page of a person for this incident, in one query:
    by timeline event id (the timeline) and by (path, level) of escalation
    pages (the ladder)."""
    rows = (
        Notification.objects.filter(incident=incident, recipient__isnull=False)
        .select_related("recipient")
        .order_by("id")
    )
    by_event: dict[int, list[PageState]] = {}
    by_level: dict[tuple[str, int], list[PageState]] = {}
    for row in rows:
        state = _state(row)
        if row.event_id is not None:
            by_event.setdefault(row.event_id, []).append(state)
        path, level = row.context.get("path"), row.context.get("level")
        if row.message_kind == "escalation" and path and level is not None:
            by_level.setdefault((path, level), []).append(state)
    return by_event, by_level


def annotate_ladder(escalation: dict[str, list], events: Iterable, by_level: dict) -> None:
    """Give each step of the escalation panel its pages' states
    (``step.pages``) and, for a level passed over, why (``step.skip_why``)."""
    why: dict[tuple[str, int], str] = {}
    for event in sorted(events, key=lambda e: (e.at, e.pk)):
        detail = event.detail or {}
        for skipped in detail.get("skipped") or []:
            why[(detail.get("path"), skipped.get("level"))] = WHY.get(skipped.get("why"), "")
    for path, rows in escalation.items():
        for step in rows:
            step.pages = by_level.get((path, step.level), [])
            step.skip_why = why.get((path, step.level), "")


def latest_notes(events: Iterable) -> list[dict]:
    """Per path, the note of its latest paging event, if that one passed
    over a level or paged nobody: ``[{"path", "text", "loud"}]``. A later
    page that reached someone at once clears the path's note."""
    latest: dict[str, object] = {}
    for event in sorted(events, key=lambda e: (e.at, e.pk)):
        detail = event.detail or {}
        if detail.get("path") in (EscalationPath.TECHNICAL, EscalationPath.BUSINESS):
            latest[detail["path"]] = event
    notes = []
    for path in (EscalationPath.TECHNICAL, EscalationPath.BUSINESS):
        event = latest.get(path)
        detail = (event.detail or {}) if event is not None else {}
        if detail.get("paging_note"):
            notes.append(
                {
                    "path": path,
                    "text": detail["paging_note"],
                    "loud": bool(detail.get("nobody_paged")),
                }
            )
    return notes
