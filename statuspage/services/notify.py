"""Telling subscribers: one outbox row per subscriber and event, written in
the change's transaction (incidents/notify/outbox.py) and sent by the
senders registered in ``StatuspageConfig.ready``.

TO BE COMPLETED (subscriptions): the functions below are the interface the
other services call.
"""

from __future__ import annotations


def incident_updated(*, update) -> None:
    """A public incident update was posted (or a post-mortem summary)."""


def component_changed(*, component, old_status: str) -> None:
    """A component's status changed."""


def maintenance_event(*, maintenance, update, event: str) -> None:
    """A maintenance was scheduled, started, completed (``event``)."""
