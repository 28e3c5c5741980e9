"""Atom and RSS feeds of the public history (``/history.atom``, ``/history.rss``,
and per component): each public update of an incident or a maintenance is
one entry, newest first.

Written with Django's syndication framework's generator
(``django.utils.feedgenerator``) rather than its ``Feed`` view: the view
builds its links from the request, and the status page's bytes must be the
same for every visitor (statuspage/cache.py), so links come from the page's
canonical address instead. Nothing here reads the internal incident: no
author, only what the communications lead wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import feedgenerator
from django.utils.html import linebreaks

from .models import Component, MaintenanceStatus, PublicStatus, PublicUpdate

LIMIT = 50
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
STATUS_LABEL = {**dict(PublicStatus.choices), **dict(MaintenanceStatus.choices)}


class _Stable:
    """A feed whose ``updated`` date comes from the data even when it has no
    entries (the generator would use the current time)."""

    fallback_date: datetime

    def latest_post_date(self):
        if not self.items:
            return self.fallback_date
        return super().latest_post_date()


class AtomFeed(_Stable, feedgenerator.Atom1Feed):
    pass


class RssFeed(_Stable, feedgenerator.Rss201rev2Feed):
    pass


FORMATS = {"atom": (AtomFeed, ATOM_TYPE), "rss": (RssFeed, RSS_TYPE)}


@dataclass(frozen=True)
class Links:
    """The absolute addresses a feed points at."""

    home: str
    feed: str
    host: str
    incident: Callable[[str], str]
    maintenance: Callable[[str], str]


def updates(component: Component | None = None) -> list[PublicUpdate]:
    """The newest public updates (of incidents and maintenance), one query."""
    rows = PublicUpdate.objects.select_related("incident", "maintenance")
    if component is not None:
        rows = rows.filter(
            Q(incident__components=component) | Q(maintenance__components=component)
        ).distinct()
    return list(rows.order_by("-display_at", "-id")[:LIMIT])


def render(
    kind: str,
    entries: list[PublicUpdate],
    *,
    title: str,
    description: str,
    links: Links,
    updated: datetime,
) -> bytes:
    """The feed as UTF-8 bytes; ``kind`` is "atom" or "rss"."""
    generator, _content_type = FORMATS[kind]
    feed = generator(
        title=title,
        link=links.home,
        description=description,
        feed_url=links.feed,
        language="en",
        feed_guid=links.feed,
    )
    feed.fallback_date = updated
    for update in entries:
        parent = update.incident or update.maintenance
        if update.incident_id:
            link = links.incident(parent.code)
            category = "incident"
        else:
            link = links.maintenance(parent.code)
            category = "maintenance"
        label = STATUS_LABEL.get(update.status, update.status.title())
        feed.add_item(
            title=f"{parent.name}: {label}",
            link=f"{link}#update-{update.code}",
            description=linebreaks(update.body, autoescape=True),
            unique_id=f"tag:{links.host},{update.created_at:%Y-%m-%d}:update/{update.code}",
            unique_id_is_permalink=False,
            pubdate=update.display_at,
            updateddate=update.updated_at,
            categories=[category, update.status],
        )
    return feed.writeString("utf-8").encode()
