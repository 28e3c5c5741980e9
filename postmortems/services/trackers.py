"""Trackers: where action items become tickets (GitHub Issues, Jira, a
signed JSON webhook). Managers only, in the API and the admin, both through
these functions; each change writes an audit row.

The token is a credential: it is written, never shown again (the API and
the admin do not return it), and the audit log keeps a fingerprint of it,
never the value. A webhook tracker signs its requests with a random secret
shown to managers when created (and rotated), like the channels' webhooks.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.db import transaction

from incidents import audit, clock
from incidents.errors import DomainError
from incidents.notify.errors import UnsafeDestination
from incidents.notify.http import check_url, within_allowed_networks
from incidents.services.checks import check_choice, check_field_text, others
from incidents.services.edits import UNSET, Rows, given

from .. import access
from ..models import Tracker, TrackerKind

# GitHub: "owner/repo" (letters, digits, "-", "_", "."); Jira: a project key
# (an upper-case letter, then upper-case letters, digits or "_").
GITHUB_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}")
JIRA_PROJECT = re.compile(r"[A-Z][A-Z0-9_]{0,49}")
TRACKER_FIELDS = ("name", "kind", "base_url", "project", "username", "enabled")


def require_manager(actor) -> None:
    if not access.can_manage(actor):
        raise PermissionDenied("Only managers can manage trackers.")


def mask(value: str) -> str:
    """A credential as the log and the pages show it: a fingerprint, enough
    to tell two values apart, far too little to recover one."""
    if not value:
        return ""
    return "•••• #" + hashlib.sha256(value.encode()).hexdigest()[:8]


def _audited(tracker: Tracker) -> dict:
    state = audit.snapshot(tracker, TRACKER_FIELDS)
    state["token"] = mask(tracker.token)
    state["secret"] = mask(tracker.secret)
    return state


TRACKERS = Rows(Tracker, TRACKER_FIELDS, shown=_audited)


# --- the rules -----------------------------------------------------------------------


def _name(value, tracker: Tracker | None) -> str:
    name = check_field_text(Tracker, "name", value)
    if others(Tracker, tracker).filter(name=name).exists():
        raise DomainError(f"A tracker named {name!r} already exists.", field="name")
    return name


def _base_url(value) -> str:
    """An http(s) URL whose host passes the outbound-address guard; plain
    http only to networks the operator named (the token travels with it)."""
    url = check_field_text(Tracker, "base_url", value).rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise DomainError("base_url is not a valid URL.", field="base_url") from None
    if parts.query or parts.fragment:
        raise DomainError("base_url takes no query or fragment.", field="base_url")
    try:
        check_url(url)
    except UnsafeDestination as exc:
        raise DomainError(f"base_url is refused: {exc.message}", field="base_url") from None
    except ValueError as exc:
        raise DomainError(f"base_url is not usable: {exc}", field="base_url") from None
    if parts.scheme != "https" and not within_allowed_networks(parts.hostname or ""):
        raise DomainError(
            "base_url must be https:// (the token travels with every request).",
            field="base_url",
        )
    return url


def _check(state: dict) -> dict:
    """The whole tracker as it would be stored: each field, then what its
    kind needs (a project for GitHub and Jira, a username and a token for
    Jira, a token for GitHub)."""
    kind = check_choice(state["kind"], TrackerKind, "kind", error=DomainError)
    checked = {
        "kind": kind,
        "name": _name(state["name"], state.get("row")),
        "base_url": _base_url(state["base_url"]),
        "project": check_field_text(Tracker, "project", state["project"], required=False),
        "username": check_field_text(Tracker, "username", state["username"], required=False),
        "token": check_field_text(Tracker, "token", state["token"], required=False),
        "enabled": state["enabled"],
    }
    if not isinstance(checked["enabled"], bool):
        raise DomainError("enabled must be true or false.", field="enabled")
    if kind == TrackerKind.GITHUB and not GITHUB_PROJECT.fullmatch(checked["project"]):
        raise DomainError(
            'project must be the repository as "owner/repo" for GitHub.', field="project"
        )
    if kind == TrackerKind.JIRA and not JIRA_PROJECT.fullmatch(checked["project"]):
        raise DomainError(
            "project must be a Jira project key (upper-case letters and digits, e.g. OPS).",
            field="project",
        )
    if kind == TrackerKind.JIRA and not checked["username"]:
        raise DomainError("username is required for Jira (basic auth).", field="username")
    if kind in (TrackerKind.GITHUB, TrackerKind.JIRA) and not checked["token"]:
        raise DomainError(f"token is required for {kind}.", field="token")
    return checked


# --- the changes ---------------------------------------------------------------------


@transaction.atomic
def tracker_create(
    *,
    actor,
    kind: str,
    name: str,
    base_url: str,
    project: str = "",
    token: str = "",
    username: str = "",
    enabled: bool = True,
) -> Tracker:
    """A new tracker; a webhook one gets a random signing secret."""
    require_manager(actor)
    state = _check(
        {
            "kind": kind,
            "name": name,
            "base_url": base_url,
            "project": project,
            "token": token,
            "username": username,
            "enabled": enabled,
        }
    )
    state["secret"] = secrets.token_hex(32) if state["kind"] == TrackerKind.WEBHOOK else ""
    state["created_at"] = clock.now()
    return TRACKERS.create(actor=actor, action="tracker_create", state=state)


@transaction.atomic
def tracker_update(
    *,
    actor,
    tracker: Tracker,
    kind: str = UNSET,
    name: str = UNSET,
    base_url: str = UNSET,
    project: str = UNSET,
    token: str = UNSET,
    username: str = UNSET,
    enabled: bool = UNSET,
) -> Tracker:
    """Change a tracker; its kind is fixed once created. An empty ``token``
    keeps the stored one (it is write-only: nobody sees it to type it again)."""
    require_manager(actor)
    tracker = Tracker.objects.select_for_update().get(pk=tracker.pk)
    if kind is not UNSET and kind != tracker.kind:
        raise DomainError(
            "A tracker's kind cannot change; add a new tracker instead.", field="kind"
        )
    if token is not UNSET and not token:
        token = UNSET
    changes = given(
        name=name,
        base_url=base_url,
        project=project,
        token=token,
        username=username,
        enabled=enabled,
    )

    def check(state: dict) -> dict:
        return _check({**state, "token": changes.get("token", tracker.token), "row": tracker})

    TRACKERS.update(actor=actor, action="tracker_update", row=tracker, changes=changes, check=check)
    return tracker


@transaction.atomic
def tracker_rotate_secret(*, actor, tracker: Tracker) -> str:
    """A new random signing secret for a webhook tracker; returns it."""
    require_manager(actor)
    tracker = Tracker.objects.select_for_update().get(pk=tracker.pk)
    if tracker.kind != TrackerKind.WEBHOOK:
        raise DomainError("Only webhook trackers sign their requests.", field="kind")
    TRACKERS.save(
        actor=actor,
        action="tracker_rotate_secret",
        row=tracker,
        values={"secret": secrets.token_hex(32)},
    )
    return tracker.secret


@transaction.atomic
def tracker_delete(*, actor, tracker: Tracker) -> None:
    """Remove a tracker; its items keep their ticket links, and tickets not
    yet created fail with a message naming it gone."""
    require_manager(actor)
    TRACKERS.delete(actor=actor, action="tracker_delete", row=tracker)
