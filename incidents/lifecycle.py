"""Hooks other apps hang on an incident's life (docs/architecture.md, "Apps").

``incidents`` never imports the apps built on it: the post-mortems app
registers ``on_resolved`` from its ``AppConfig.ready()``, and
``incident_resolve`` calls every hook in its own transaction, so a
post-mortem is created with the resolution or not at all. It also registers
a link provider (``register_link``): the incident page and the board's
resolved list show the post-mortem (or offer to ask for one) through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Link:
    """Something another app shows on an incident (the post-mortem): a link,
    or with ``post`` a button that posts to ``url``. ``due_at`` and
    ``starts_at`` make a ticking clock beside it; ``late`` says it is past due."""

    label: str
    url: str
    state: str = ""
    post: bool = False
    due_at: datetime | None = None
    starts_at: datetime | None = None
    late: bool = False


LinkProvider = Callable[..., dict[int, list[Link]]]
_link_providers: list[LinkProvider] = []


def register_link(provider: LinkProvider) -> None:
    """``provider(incidents, user=…)`` returns ``{incident.pk: [Link, …]}`` for a whole
    list at once (the board asks for every resolved incident in one go)."""
    if provider not in _link_providers:
        _link_providers.append(provider)


def links_for(incidents: list, *, user=None) -> dict[int, list[Link]]:
    found: dict[int, list[Link]] = {}
    for provider in _link_providers:
        for pk, links in provider(list(incidents), user=user).items():
            found.setdefault(pk, []).extend(links)
    return found


def links(incident, *, user=None) -> list[Link]:
    """What the apps link from this incident's page: ``[Link(label, url), …]``."""
    return links_for([incident], user=user).get(incident.pk, [])
