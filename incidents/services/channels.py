"""Notification channels: where notifications go (Slack, email, PagerDuty,
signed webhooks) and which severities each receives. Managers edit them in
the admin and the API; both call these functions and check nothing
themselves.

A Slack or webhook URL is a credential (whoever has it posts to the
channel), so is a PagerDuty routing key, and so is a webhook's signing
secret: the audit log keeps a fingerprint of them, never the value.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .. import audit, clock
from ..errors import DomainError
from ..models import Channel, ChannelKind, Severity
from ..notify import probe
from ..notify.channels import DEFAULT_SEVERITIES, SECRET_TARGET_KINDS, mask_secret, mask_target
from ..notify.errors import TransportError, UnsafeDestination
from ..notify.http import check_url, within_allowed_networks
from .checks import check_choice, check_field_text, others
from .edits import UNSET, Rows, given

# Integration and ruleset keys are both 32 characters (ruleset keys start with R).
ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")
TARGET_MAX = Channel._meta.get_field("target").max_length
SECRET_MIN_LENGTH, SECRET_MAX_LENGTH = 32, 64  # Channel.secret is a CharField(64)
# What people edit of a channel (the entry points' forms show these), which
# the audit log keeps (a secret target masked: ``_audited``).
CHANNEL_FIELDS = ("name", "kind", "target", "severities", "enabled")


# --- the rules -----------------------------------------------------------------------


def _name(value, *, channel: Channel | None = None) -> str:
    name = check_field_text(Channel, "name", value)
    if others(Channel, channel).filter(name=name).exists():
        raise DomainError(f"A channel named {name!r} already exists.", field="name")
    return name


def _url(kind: str, target: str) -> str:
    """Steps for URL targets: scheme, then the SSRF check on the resolved host."""
    try:
        parts = urlsplit(target)
    except ValueError:
        raise DomainError("The target is not a valid URL.", field="target") from None
    # Plain http leaks the secret URL; allowed only to networks the operator
    # named as local (tests, on-premises Slack-compatible relays).
    plain_ok = (
        parts.scheme == "http" and bool(parts.hostname) and within_allowed_networks(parts.hostname)
    )
    if kind == ChannelKind.SLACK and parts.scheme != "https" and not plain_ok:
        raise DomainError(
            "The Slack target must be an https:// incoming-webhook URL "
            "(https://hooks.slack.com/services/…).",
            field="target",
        )
    try:
        check_url(target)
    except UnsafeDestination as exc:
        raise DomainError(f"The target is refused: {exc.message}", field="target") from None
    except ValueError as exc:
        raise DomainError(f"The target is not usable: {exc}", field="target") from None
    return target


def _target(kind: str, target) -> str:
    """The normalised target for a channel of ``kind``:

    - slack: an https URL (http only inside NOTIFY_ALLOWED_NETWORKS) whose
      host passes the SSRF check; any host, for Slack-compatible services;
    - webhook: an http(s) URL whose host passes the SSRF check;
    - email: one valid address;
    - pagerduty: a 32-character routing key of letters and digits.
    """
    target = target.strip() if isinstance(target, str) else ""
    if not target:
        raise DomainError("The target is required.", field="target")
    if len(target) > TARGET_MAX:
        raise DomainError(f"The target is longer than {TARGET_MAX} characters.", field="target")
    if kind in (ChannelKind.SLACK, ChannelKind.WEBHOOK):
        return _url(kind, target)
    if kind == ChannelKind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise DomainError(
                f"The target {target!r} is not a valid email address.", field="target"
            ) from None
        return target
    if not ROUTING_KEY.fullmatch(target):  # PagerDuty: the kind check let nothing else through
        raise DomainError(
            "The target must be a PagerDuty routing key: 32 letters and "
            "digits (Events API v2 integration or ruleset key).",
            field="target",
        )
    return target


def _severities(values) -> list[str]:
    """A non-empty subset of P0..P3, deduplicated and sorted."""
    if not isinstance(values, list | tuple):
        raise DomainError('Severities must be a list such as ["P0", "P1"].', field="severities")
    unknown = [str(v) for v in values if not isinstance(v, str) or v not in Severity.values]
    if unknown:
        raise DomainError(
            f"Unknown severities {unknown}; use P0, P1, P2 or P3.", field="severities"
        )
    if not values:
        raise DomainError("Pick at least one severity (P0..P3).", field="severities")
    return sorted(set(values))


def _secret(value) -> str:
    """A signing secret a manager typed: 32-64 printable characters, no spaces
    (it is pasted into the receiver's configuration)."""
    value = value.strip() if isinstance(value, str) else ""
    if not SECRET_MIN_LENGTH <= len(value) <= SECRET_MAX_LENGTH:
        raise DomainError(
            f"A signing secret has {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters "
            f"(this one has {len(value)}).",
            field="new_secret",
        )
    if not (value.isascii() and value.isprintable()) or any(c.isspace() for c in value):
        raise DomainError("A signing secret is printable ASCII without spaces.", field="new_secret")
    return value


# --- what the audit log keeps --------------------------------------------------------


def _fingerprint(value: str) -> str:
    # Enough to tell two values apart in the log, far too little to recover
    # a 128-bit token from.
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def _audited(channel: Channel) -> dict:
    """The channel as the log keeps it: secret targets shown as the admin
    shows them plus a fingerprint, so a new URL on the same host still
    shows as a change."""
    state = audit.snapshot(channel, CHANNEL_FIELDS)
    if channel.kind in (*SECRET_TARGET_KINDS, ChannelKind.PAGERDUTY) and channel.target:
        state["target"] = (
            f"{mask_target(channel.kind, channel.target)} #{_fingerprint(channel.target)}"
        )
    return state


def _secret_shown(channel: Channel) -> dict:
    return {"secret": mask_secret(channel.secret)}


CHANNELS = Rows(Channel, CHANNEL_FIELDS, shown=_audited)
# A webhook's signing secret, changed on its own and shown by its last characters.
SECRETS = Rows(Channel, ("secret",), shown=_secret_shown)


# --- the changes ---------------------------------------------------------------------


@transaction.atomic
def channel_create(
    *,
    actor,
    name: str,
    kind: str,
    target: str,
    severities: list[str] | None = None,
    enabled: bool = True,
) -> Channel:
    """A new channel; ``severities`` default to the guide's routing for its kind.
    A webhook gets a random signing secret (``Channel.secret``'s default)."""
    kind = check_choice(kind, ChannelKind, "kind", error=DomainError)
    state = {
        "name": _name(name),
        "kind": kind,
        "target": _target(kind, target),
        "severities": _severities(DEFAULT_SEVERITIES[kind] if severities is None else severities),
        "enabled": bool(enabled),
    }
    return CHANNELS.create(actor=actor, action="channel_create", state=state)


@transaction.atomic
def channel_update(
    *,
    actor,
    channel: Channel,
    name: str = UNSET,
    kind: str = UNSET,
    target: str = UNSET,
    severities: list[str] | None = UNSET,
    enabled: bool = UNSET,
    new_secret: str | None = UNSET,
) -> Channel:
    """Change what is given; the rest stays.

    1. The kind cannot change: the target would mean something else.
    2. A new target is judged with the channel's kind; ``severities=None``
       is the guide's routing for it.
    3. A new target, or re-enabling, clears the last permanent error: the
       manager has acted on it.
    4. ``new_secret`` replaces a webhook's signing secret (typed: 32-64
       characters; None: a random one), as ``channel_rotate_secret``.
    """
    if kind is not UNSET and kind != channel.kind:
        raise DomainError(
            "The kind of a channel cannot change; create a new channel.", field="kind"
        )
    values = given(
        name=name if name is UNSET else _name(name, channel=channel),
        target=target if target is UNSET else _target(channel.kind, target),
        severities=(
            severities
            if severities is UNSET
            else _severities(DEFAULT_SEVERITIES[channel.kind] if severities is None else severities)
        ),
        enabled=enabled if enabled is UNSET else bool(enabled),
    )
    if new_secret is not UNSET:
        new_secret = _new_secret(channel, new_secret)
    if channel.last_error and (
        values.get("target", channel.target) != channel.target
        or (values.get("enabled") and not channel.enabled)
    ):
        values.update(last_error="", last_error_at=None)
    CHANNELS.save(actor=actor, action="channel_update", row=channel, values=values)
    if new_secret is not UNSET:
        _store_secret(actor=actor, channel=channel, secret=new_secret)
    return channel


@transaction.atomic
def channel_delete(*, actor, channel: Channel) -> None:
    """Delete a channel. Its past deliveries stay in the outbox (their
    channel becomes empty): they are the record of what was sent."""
    CHANNELS.delete(actor=actor, action="channel_delete", row=channel)


def _new_secret(channel: Channel, secret: str | None) -> str:
    if channel.kind != ChannelKind.WEBHOOK:
        raise DomainError("Only webhook channels have a signing secret.", field="kind")
    if secret is None:
        return Channel._meta.get_field("secret").get_default()
    return _secret(secret)


def _store_secret(*, actor, channel: Channel, secret: str) -> None:
    SECRETS.save(
        actor=actor, action="channel_rotate_secret", row=channel, values={"secret": secret}
    )


@transaction.atomic
def channel_rotate_secret(*, actor, channel: Channel, new_secret: str | None = None) -> str:
    """A new HMAC secret for a webhook channel (random, or the one the manager
    typed); the old one stops verifying at once (deliveries signed after
    this use the new one). Returns the secret, to be shown once."""
    _store_secret(actor=actor, channel=channel, secret=_new_secret(channel, new_secret))
    return channel.secret


def channel_test(*, actor, channel: Channel, sender: str) -> dict:
    """Send one test message through ``channel`` now (``probe.send_test``)
    and record the outcome on the channel: a success clears its last error,
    a failure becomes it. Raises ``TransportError``, or ``RateLimited`` past
    the sender's test allowance or the email cap. Not audited: it changes
    no setting, and the test itself is a row of the outbox."""
    try:
        outcome = probe.send_test(
            transport=channel.kind,
            target=channel.target,
            about=f"channel {channel.name!r}",
            sender=sender,
            channel=channel,
            requested_by=actor,
        )
    except TransportError as exc:
        channel.last_error, channel.last_error_at = f"Test failed: {exc.message}", clock.now()
        channel.save(update_fields=["last_error", "last_error_at"])
        raise
    if channel.last_error:
        channel.last_error, channel.last_error_at = "", None
        channel.save(update_fields=["last_error", "last_error_at"])
    return outcome
