"""How an incident reaches a public page: a registry, so ``incidents`` works
without the status page and never imports it (docs/architecture.md, "Apps").

The status page registers a ``Publisher`` from its ``AppConfig.ready()``.
``incident_post_update`` hands it every update posted with visibility
"public", in the update's transaction; the incident page asks it whether
the incident is published and where it is managed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .errors import DomainError


@dataclass(frozen=True)
class PublicState:
    """What the dashboard shows of an incident's public side."""

    published: bool
    # The communications lead's screen for this incident (publish or update).
    manage_url: str
    # The public page, once published.
    public_url: str = ""
    public_status: str = ""


class Publisher(Protocol):
    def public_update(self, *, incident, update, actor, components: list | None) -> None: ...

    def state(self, incident) -> PublicState | None: ...

    def postmortem_published(self, *, incident, summary: str) -> None: ...


_publishers: list[Publisher] = []


def register(publisher: Publisher) -> None:
    if publisher not in _publishers:
        _publishers.append(publisher)


def public_update_posted(*, incident, update, actor, components: list | None = None) -> None:
    """Called by ``incident_post_update`` for a public update, in its transaction."""
    if components and not _publishers:
        raise DomainError("There is no status page to change components on.", field="components")
    for publisher in _publishers:
        publisher.public_update(
            incident=incident, update=update, actor=actor, components=components
        )


def state(incident) -> PublicState | None:
    for publisher in _publishers:
        found = publisher.state(incident)
        if found is not None:
            return found
    return None


def postmortem_published(*, incident, summary: str) -> None:
    """A published post-mortem's public summary (postmortems/): a public
    incident moves to "postmortem" with it; an unpublished one is untouched."""
    for publisher in _publishers:
        publisher.postmortem_published(incident=incident, summary=summary)
