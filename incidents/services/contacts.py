"""How a person is reached when paged: their contact methods.

Shared by the admin (managers edit anyone's) and the profile page (people
edit their own). Email and PagerDuty methods are paged directly; a Slack
member ID is mentioned in the channel messages (``outbox.slack_mentions``).
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from ..access import can_manage
from ..errors import DomainError
from ..models import ChannelKind, ContactKind, ContactMethod
from ..notify import probe
from ..notify.channels import ROUTING_KEY
from ..people import display_name

# Slack member IDs (U…, W… for Enterprise Grid) are what mentions need;
# a plain handle is kept for people to read.
_SLACK = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9._-]{1,79}")

# Which transport pages a method directly (Slack: mentioned, not paged).
TESTABLE = {ContactKind.EMAIL: ChannelKind.EMAIL, ContactKind.PAGERDUTY: ChannelKind.PAGERDUTY}


def contact_value_error(kind: str, value: str) -> str | None:
    """Why ``value`` is not a usable contact of ``kind``, or None."""
    if not value:
        return "Enter how to reach you."
    if kind == ContactKind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            return "Enter a valid email address."
    elif kind == ContactKind.PAGERDUTY:
        if not ROUTING_KEY.fullmatch(value):
            return (
                "Enter a PagerDuty routing key: 32 letters and digits (the Events API v2 "
                "integration key of your PagerDuty service)."
            )
    elif kind == ContactKind.SLACK:
        if not _SLACK.fullmatch(value):
            return "Enter a Slack member ID such as U024BE7LH (profile → ⋮ → Copy member ID)."
    else:
        return f"Unknown kind {kind!r}."
    return None


def _may_edit(actor, user) -> bool:
    return actor.pk == user.pk or can_manage(actor)


def contact_add(*, user, kind: str, value: str, actor) -> ContactMethod:
    """Add a way to reach ``user``; people add their own, managers anyone's."""
    if not _may_edit(actor, user):
        raise PermissionDenied("Only managers can change someone else's contact methods.")
    value = (value or "").strip()
    if error := contact_value_error(kind, value):
        raise DomainError(error, field="value")
    try:
        with transaction.atomic():
            return ContactMethod.objects.create(user=user, kind=kind, value=value)
    except IntegrityError:
        raise DomainError("You already have this contact method.", field="value") from None


def contact_set_enabled(*, method: ContactMethod, enabled: bool, actor) -> ContactMethod:
    if not _may_edit(actor, method.user):
        raise PermissionDenied("Only managers can change someone else's contact methods.")
    if method.enabled != enabled:
        method.enabled = enabled
        method.save(update_fields=["enabled"])
    return method


def contact_remove(*, method: ContactMethod, actor) -> None:
    if not _may_edit(actor, method.user):
        raise PermissionDenied("Only managers can change someone else's contact methods.")
    method.delete()


def contact_test(*, method: ContactMethod, actor) -> dict:
    """Send a test page to the method now; raises ``TransportError``, or
    ``RateLimited`` past the person's test allowance or the email cap."""
    if not _may_edit(actor, method.user):
        raise PermissionDenied("Only managers can test someone else's contact methods.")
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
