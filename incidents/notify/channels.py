"""Notification channels as data: the guide's default routing, and how a
channel's secrets are shown. The rules and the writes are in
``incidents.services.channels``.

Routing by severity follows the guide's table (DESIGN.md): P0 PagerDuty +
Slack, P1 Slack + email, P2 Slack, P3 email digest. Webhooks receive all.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..models import ChannelKind

DEFAULT_SEVERITIES: dict[str, list[str]] = {
    ChannelKind.SLACK: ["P0", "P1", "P2"],
    ChannelKind.EMAIL: ["P1", "P3"],
    ChannelKind.PAGERDUTY: ["P0"],
    ChannelKind.WEBHOOK: ["P0", "P1", "P2", "P3"],
}

# Targets that are secrets (the URL is the credential) are masked when shown.
SECRET_TARGET_KINDS = (ChannelKind.SLACK, ChannelKind.WEBHOOK)


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


def mask_secret(secret: str) -> str:
    """How a stored signing secret is shown after creation: its last four characters."""
    return "••••" + secret[-4:] if secret else ""
