"""How a person is reached when paged: their contact methods.

Shared by the admin (managers edit anyone's but a superuser's) and the
profile page (people edit their own). Email and PagerDuty methods are paged
directly; a Slack member ID is mentioned in the channel messages
(``outbox.slack_mentions``).

Contact methods are personal, so a person changing their own is not in the
audit log (the log is of managers' changes). Someone changing another
person's is: where that person's pages, and the acknowledge links in them,
go. The log masks a PagerDuty routing key (it is a credential).
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from .. import audit, privileges
from ..access import can_manage
from ..errors import DomainError
from ..models import ChannelKind, ContactKind, ContactMethod
from ..notify import probe
from ..people import display_name
from .channels import ROUTING_KEY
from .checks import check_choice, others
from .edits import UNSET, Rows, given

# Slack member IDs (U…, W… for Enterprise Grid) are what mentions need;
# a plain handle is kept for people to read.
_SLACK = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9._-]{1,79}")
VALUE_MAX = ContactMethod._meta.get_field("value").max_length
# What people edit of a contact method; the log keeps its person too, and
# the value as ``_shown`` shows it.
FIELDS = ("kind", "value", "enabled")

# Which transport pages a method directly (Slack: mentioned, not paged).
TESTABLE = {ContactKind.EMAIL: ChannelKind.EMAIL, ContactKind.PAGERDUTY: ChannelKind.PAGERDUTY}


def _check_value(kind: str, value) -> str:
    """The value, stripped, if it reaches someone by ``kind``."""
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        raise DomainError("Enter how to reach you.", field="value")
    if len(value) > VALUE_MAX:
        raise DomainError(f"Enter at most {VALUE_MAX} characters.", field="value")
    if kind == ContactKind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise DomainError("Enter a valid email address.", field="value") from None
    elif kind == ContactKind.PAGERDUTY:
        if not ROUTING_KEY.fullmatch(value):
            raise DomainError(
                "Enter a PagerDuty routing key: 32 letters and digits (the Events API v2 "
                "integration key of your PagerDuty service).",
                field="value",
            )
    elif not _SLACK.fullmatch(value):
        raise DomainError(
            "Enter a Slack member ID such as U024BE7LH (profile → ⋮ → Copy member ID).",
            field="value",
        )
    return value


def _check_once(*, actor, user, kind: str, value: str, method: ContactMethod | None = None):
    if others(ContactMethod, method).filter(user=user, kind=kind, value=value).exists():
        raise DomainError(_already(actor, user), field="value")


def _state(state: dict, *, actor, method: ContactMethod) -> dict:
    """A whole contact method of ``method``'s person as it would be stored,
    checked: a value that reaches someone by its kind, once per person."""
    kind = check_choice(state["kind"], ContactKind, "kind", error=DomainError)
    value = _check_value(kind, state["value"])
    if (kind, value) != (method.kind, method.value):
        _check_once(actor=actor, user=method.user, kind=kind, value=value, method=method)
    return {"kind": kind, "value": value, "enabled": bool(state["enabled"])}


def _already(actor, user) -> str:
    if actor.pk == user.pk:
        return "You already have this contact method."
    return f"{display_name(user)} already has this contact method."


def _require_may_edit(actor, user, verb: str = "change") -> None:
    """People edit their own; managers anyone's but a superuser's
    (``privileges.can_alter_account_of``: a superuser's pages are theirs)."""
    if actor.pk == user.pk:
        return
    if not (can_manage(actor) and privileges.can_alter_account_of(actor, user)):
        raise PermissionDenied(f"Only managers can {verb} someone else's contact methods.")


def _shown(method: ContactMethod) -> str:
    """The value as the log shows it: a routing key by its last four characters."""
    if method.kind == ContactKind.PAGERDUTY:
        return "…" + method.value[-4:]
    return method.value


def _audited(method: ContactMethod) -> dict:
    return {**audit.snapshot(method, ("user", "kind", "enabled")), "value": _shown(method)}


def _record(*, actor, obj: ContactMethod, **entry) -> None:
    """Audit a change made to someone else's contact methods only (``edits``'
    ``record``), naming the method without its routing key."""
    if actor.pk != obj.user_id:
        named = f"{obj.user} {obj.kind}: {_shown(obj)}"
        audit.record(actor=actor, obj=obj, object_repr=named, **entry)


CONTACT_METHODS = Rows(ContactMethod, FIELDS, shown=_audited, record=_record)


@transaction.atomic
def contact_add(*, actor, user, kind: str, value: str, enabled: bool = True) -> ContactMethod:
    """Add a way to reach ``user``."""
    _require_may_edit(actor, user)
    kind = check_choice(kind, ContactKind, "kind", error=DomainError)
    value = _check_value(kind, value)
    _check_once(actor=actor, user=user, kind=kind, value=value)
    try:
        with transaction.atomic():
            return CONTACT_METHODS.create(
                actor=actor,
                action="contact_add",
                state={"user": user, "kind": kind, "value": value, "enabled": bool(enabled)},
            )
    except IntegrityError:  # added by a concurrent request since the check
        raise DomainError(_already(actor, user), field="value") from None


@transaction.atomic
def contact_update(
    *,
    actor,
    method: ContactMethod,
    kind: str = UNSET,
    value: str = UNSET,
    enabled: bool = UNSET,
) -> ContactMethod:
    """Change what is given (pause or resume pages with ``enabled``); the
    method stays its person's."""
    _require_may_edit(actor, method.user)
    try:
        with transaction.atomic():
            CONTACT_METHODS.update(
                actor=actor,
                action="contact_update",
                row=method,
                changes=given(kind=kind, value=value, enabled=enabled),
                check=lambda state: _state(state, actor=actor, method=method),
            )
    except IntegrityError:  # the same method added by a concurrent request since the check
        raise DomainError(_already(actor, method.user), field="value") from None
    return method


@transaction.atomic
def contact_remove(*, actor, method: ContactMethod) -> None:
    _require_may_edit(actor, method.user)
    CONTACT_METHODS.delete(actor=actor, action="contact_remove", row=method)


def contact_test(*, actor, method: ContactMethod) -> dict:
    """Send a test page to the method now; raises ``TransportError``, or
    ``RateLimited`` past the person's test allowance or the email cap."""
    _require_may_edit(actor, method.user, "test")
    transport = TESTABLE.get(method.kind)
    if transport is None:
        raise DomainError(
            "Slack member IDs are mentioned in the Slack channel's messages; "
            "test the Slack channel instead.",
            field="kind",
        )
    person, sender = display_name(method.user), display_name(actor)
    return probe.send_test(
        transport=transport,
        target=method.value,
        about=f"{person}'s {method.get_kind_display().lower()}",
        sender=sender,
        requested_by=actor,
        recipient=method.user,
    )
