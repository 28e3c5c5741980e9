"""Hooks other apps hang on an incident's life (docs/architecture.md, "Apps").

``incidents`` never imports the apps built on it: the post-mortems app
registers ``on_resolved`` from its ``AppConfig.ready()``, and
``incident_resolve`` calls every hook in its own transaction, so a
post-mortem is created with the resolution or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

ResolvedHook = Callable[..., None]
_resolved: list[ResolvedHook] = []


def on_resolved(hook: ResolvedHook) -> None:
    """Call ``hook(incident=…, actor=…, now=…)`` whenever an incident is resolved."""
    if hook not in _resolved:
        _resolved.append(hook)


def resolved(*, incident, actor, now: datetime) -> None:
    for hook in _resolved:
        hook(incident=incident, actor=actor, now=now)
