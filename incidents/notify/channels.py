"""Notification channels as data: validation shared by the API and the admin,
the guide's default routing, and the few writes a channel needs.

Routing by severity follows the guide's table (DESIGN.md): P0 PagerDuty +
Slack, P1 Slack + email, P2 Slack, P3 email digest. Webhooks receive all.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .. import clock
from ..models import Channel, ChannelKind, Severity
from . import probe
from .errors import TransportError, UnsafeDestination
from .http import check_url, within_allowed_networks

DEFAULT_SEVERITIES: dict[str, list[str]] = {
    ChannelKind.SLACK: ["P0", "P1", "P2"],
    ChannelKind.EMAIL: ["P1", "P3"],
    ChannelKind.PAGERDUTY: ["P0"],
    ChannelKind.WEBHOOK: ["P0", "P1", "P2", "P3"],
}

# Integration and ruleset keys are both 32 characters (ruleset keys start with R).
ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")
# Targets that are secrets (the URL is the credential) are masked when shown.
SECRET_TARGET_KINDS = (ChannelKind.SLACK, ChannelKind.WEBHOOK)


def _url(kind: str, target: str) -> str:
    """Steps for URL targets: scheme, then the SSRF check on the resolved host."""
    try:
        parts = urlsplit(target)
    except ValueError:
        raise ValueError("The target is not a valid URL.") from None
    # Plain http leaks the secret URL; allowed only to networks the operator
    # named as local (tests, on-premises Slack-compatible relays).
    plain_ok = (
        parts.scheme == "http" and bool(parts.hostname) and within_allowed_networks(parts.hostname)
    )
    if kind == ChannelKind.SLACK and parts.scheme != "https" and not plain_ok:
        raise ValueError(
            "The Slack target must be an https:// incoming-webhook URL "
            "(https://hooks.slack.com/services/…)."
        )
    try:
        check_url(target)
    except UnsafeDestination as exc:
        raise ValueError(f"The target is refused: {exc.message}") from None
    except ValueError as exc:
        raise ValueError(f"The target is not usable: {exc}") from None
    return target


def validate_target(kind: str, target: str) -> str:
    """The normalised target for a channel of ``kind``, or ValueError whose
    message names the target and what is wrong with it.

    - slack: an https URL (http only inside NOTIFY_ALLOWED_NETWORKS) whose
      host passes the SSRF check; any host, for Slack-compatible services;
    - webhook: an http(s) URL whose host passes the SSRF check;
    - email: one valid address;
    - pagerduty: a 32-character routing key of letters and digits.
    """
    target = (target or "").strip()
    if not target:
        raise ValueError("The target is required.")
    if kind in (ChannelKind.SLACK, ChannelKind.WEBHOOK):
        return _url(kind, target)
    if kind == ChannelKind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise ValueError(f"The target {target!r} is not a valid email address.") from None
        return target
    if kind == ChannelKind.PAGERDUTY:
        if not ROUTING_KEY.fullmatch(target):
            raise ValueError(
                "The target must be a PagerDuty routing key: 32 letters and "
                "digits (Events API v2 integration or ruleset key)."
            )
        return target
    raise ValueError(f"Unknown channel kind {kind!r}.")


def validate_severities(values) -> list[str]:
    """A non-empty subset of P0..P3, deduplicated and sorted; ValueError otherwise."""
    if not isinstance(values, list | tuple):
        raise ValueError('Severities must be a list such as ["P0", "P1"].')
    known = set(Severity.values)
    unknown = [str(v) for v in values if not isinstance(v, str) or v not in known]
    if unknown:
        raise ValueError(f"Unknown severities {unknown}; use P0, P1, P2 or P3.")
    if not values:
        raise ValueError("Pick at least one severity (P0..P3).")
    return sorted(set(values))


def mask_target(kind: str, target: str) -> str:
    """What a list or detail view shows: URLs are secrets (``https://host/…``),
    routing keys show their last four characters; addresses are shown."""
    if kind in SECRET_TARGET_KINDS:
        parts = urlsplit(target)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}/…"
    if kind == ChannelKind.PAGERDUTY:
        return "…" + target[-4:]
    return target


def channel_create(
    *, name: str, kind: str, target: str, severities: list[str] | None = None, enabled: bool = True
) -> Channel:
    """A new channel; ``severities`` default to the guide's routing for its kind.
    Callers validate first (``validate_target``, ``validate_severities``)."""
    return Channel.objects.create(
        name=name.strip(),
        kind=kind,
        target=target,
        severities=list(severities) if severities is not None else DEFAULT_SEVERITIES[kind],
        enabled=enabled,
    )


def channel_update(*, channel: Channel, **fields) -> Channel:
    """Change name/target/severities/enabled. A new target or re-enabling
    clears the last permanent error: the manager has acted on it."""
    changed = [name for name, value in fields.items() if getattr(channel, name) != value]
    for name in changed:
        setattr(channel, name, fields[name])
    if ("target" in changed or ("enabled" in changed and channel.enabled)) and channel.last_error:
        channel.last_error, channel.last_error_at = "", None
        changed += ["last_error", "last_error_at"]
    if changed:
        channel.save(update_fields=changed)
    return channel


SECRET_MIN_LENGTH, SECRET_MAX_LENGTH = 32, 64  # Channel.secret is a CharField(64)


def validate_secret(value: str) -> str:
    """A signing secret a manager typed: 32-64 printable characters, no spaces
    (it is pasted into the receiver's configuration)."""
    value = (value or "").strip()
    if not SECRET_MIN_LENGTH <= len(value) <= SECRET_MAX_LENGTH:
        raise ValueError(
            f"A signing secret has {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters "
            f"(this one has {len(value)})."
        )
    if not (value.isascii() and value.isprintable()) or any(c.isspace() for c in value):
        raise ValueError("A signing secret is printable ASCII without spaces.")
    return value


def mask_secret(secret: str) -> str:
    """How a stored signing secret is shown after creation: its last four characters."""
    return "••••" + secret[-4:] if secret else ""


@transaction.atomic
def channel_rotate_secret(*, channel: Channel, secret: str | None = None) -> str:
    """A new HMAC secret for a webhook channel (random, or the one the manager
    typed: ``validate_secret``); the old one stops verifying at once
    (deliveries signed after this use the new one)."""
    if secret is None:
        channel.secret = Channel._meta.get_field("secret").get_default()
    else:
        channel.secret = validate_secret(secret)
    channel.save(update_fields=["secret"])
    return channel.secret


def channel_test(*, channel: Channel, sender: str, actor=None) -> dict:
    """Send one test message through ``channel`` now (``probe.send_test``)
    and record the outcome on the channel: a success clears its last error,
    a failure becomes it. Raises ``TransportError``, or ``RateLimited`` past
    the sender's test allowance or the email cap."""
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
