"""Statuspage's public API v2 bodies, from the status page's own rows.

Pure functions: rows in, dicts out (``statuspage/v2_views.py`` reads the
rows and caches the bytes). Field names, enums and nesting are Statuspage's
(tests/fixtures/statuspage/ holds the documented examples), so existing
aggregators and Statuspage clients read them unchanged:

- ``page``: id, name, url, time_zone, updated_at (the page's last public change);
- components in the long form (components.json, incidents' ``components``)
  with group components as Statuspage shows them (``"group": true`` and
  their children's ids in ``components``), and the short form in summary.json;
- incidents and scheduled maintenances with their ``incident_updates``,
  newest first; timestamps ISO 8601 with milliseconds in the page's time
  zone (``Z`` in UTC), ``start_date`` a date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .models import Component, ComponentGroup, Maintenance, PublicIncident, PublicUpdate
from .selectors import Indicator, PageData, worst_status


@dataclass(frozen=True)
class Page:
    """The page as the JSON names it (settings STATUS_PAGE_*)."""

    id: str
    name: str
    url: str
    time_zone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def stamp(value: datetime | None, page: Page) -> str | None:
    """``2014-05-14T14:22:39.441-06:00``; ``…Z`` in UTC."""
    if value is None:
        return None
    text = value.astimezone(page.zone).isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def page_block(page: Page, updated_at: datetime | None) -> dict:
    return {
        "id": page.id,
        "name": page.name,
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": stamp(updated_at, page),
    }


def status_block(status: Indicator) -> dict:
    return {"indicator": status.indicator, "description": status.description}


def component_short(component: Component, page: Page) -> dict:
    """summary.json's form (Statuspage's documented example)."""
    return {
        "id": component.code,
        "name": component.name,
        "status": component.status,
        "created_at": stamp(component.created_at, page),
        "updated_at": stamp(component.updated_at, page),
        "position": component.position,
        "description": component.description or None,
        "page_id": page.id,
    }


def component_long(component: Component, page: Page, group_code: str | None) -> dict:
    return {
        **component_short(component, page),
        "showcase": component.showcase,
        "start_date": day(component.start_date),
        "group_id": group_code,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def group_long(group: ComponentGroup, members: list[Component], page: Page) -> dict:
    """A component group as Statuspage lists it among the components."""
    return {
        "id": group.code,
        "name": group.name,
        "status": worst_status([c.status for c in members]),
        "created_at": stamp(group.created_at, page),
        "updated_at": stamp(group.updated_at, page),
        "position": group.position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page.id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.code for c in members],
    }


def components_long(
    components: list[Component], groups: list[ComponentGroup], page: Page
) -> list[dict]:
    """Every component, ungrouped first, then each group followed by its members."""
    codes = {g.pk: g.code for g in groups}
    listed = [component_long(c, page, None) for c in components if c.group_id is None]
    for group in groups:
        members = [c for c in components if c.group_id == group.pk]
        listed.append(group_long(group, members, page))
        listed += [component_long(c, page, codes[group.pk]) for c in members]
    return listed


def update_block(update: PublicUpdate, parent_code: str, page: Page) -> dict:
    return {
        "id": update.code,
        "status": update.status,
        "body": update.body,
        "incident_id": parent_code,
        "created_at": stamp(update.created_at, page),
        "updated_at": stamp(update.updated_at, page),
        "display_at": stamp(update.display_at, page),
        "affected_components": [
            {
                "code": item.get("code"),
                "name": item.get("name"),
                "old_status": item.get("old_status"),
                "new_status": item.get("new_status"),
            }
            for item in update.affected_components or []
        ]
        or None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def shortlink(page: Page, code: str) -> str:
    return f"{page.url}/incidents/{code}"


def incident_block(incident: PublicIncident, page: Page, codes: dict[int, str]) -> dict:
    """An incident with its updates (newest first) and components. Only the
    public copy: nothing of the internal incident is read here."""
    return {
        "id": incident.code,
        "name": incident.name,
        "status": incident.status,
        "created_at": stamp(incident.created_at, page),
        "updated_at": stamp(incident.updated_at, page),
        "monitoring_at": stamp(incident.monitoring_at, page),
        "resolved_at": stamp(incident.resolved_at, page),
        "impact": incident.impact,
        "shortlink": shortlink(page, incident.code),
        "started_at": stamp(incident.started_at, page),
        "page_id": page.id,
        "incident_updates": updates(incident.updates.all(), incident.code, page),
        "components": linked_components(incident.components.all(), page, codes),
    }


def maintenance_block(maintenance: Maintenance, page: Page, codes: dict[int, str]) -> dict:
    return {
        "id": maintenance.code,
        "name": maintenance.name,
        "status": maintenance.status,
        "created_at": stamp(maintenance.created_at, page),
        "updated_at": stamp(maintenance.updated_at, page),
        "monitoring_at": None,
        "resolved_at": stamp(maintenance.resolved_at, page),
        "impact": maintenance.impact,
        "shortlink": shortlink(page, maintenance.code),
        "started_at": stamp(maintenance.started_at or maintenance.scheduled_for, page),
        "page_id": page.id,
        "incident_updates": updates(maintenance.updates.all(), maintenance.code, page),
        "components": linked_components(maintenance.components.all(), page, codes),
        "scheduled_for": stamp(maintenance.scheduled_for, page),
        "scheduled_until": stamp(maintenance.scheduled_until, page),
    }


def updates(items: Iterable[PublicUpdate], parent_code: str, page: Page) -> list[dict]:
    ordered = sorted(items, key=lambda u: (u.display_at, u.pk), reverse=True)
    return [update_block(u, parent_code, page) for u in ordered]


def linked_components(
    components: Iterable[Component], page: Page, codes: dict[int, str]
) -> list[dict]:
    """An incident's components in the long form (``codes``: group id → code)."""
    ordered = sorted(components, key=lambda c: (c.position, c.name))
    return [component_long(c, page, codes.get(c.group_id)) for c in ordered]


def group_codes(groups: Iterable[ComponentGroup]) -> dict[int, str]:
    return {g.pk: g.code for g in groups}


# The endpoints' bodies.


def summary(data: PageData, page: Page) -> dict:
    codes = group_codes(data.groups)
    return {
        "page": page_block(page, data.updated_at),
        "components": [component_short(c, page) for c in data.components],
        "incidents": [incident_block(i, page, codes) for i in data.open_incidents],
        "scheduled_maintenances": [
            maintenance_block(m, page, codes)
            for m in [*data.active_maintenances, *data.upcoming_maintenances]
        ],
        "status": status_block(data.status),
    }


def status(data: PageData, page: Page) -> dict:
    return {"page": page_block(page, data.updated_at), "status": status_block(data.status)}


def components(
    components: list[Component],
    groups: list[ComponentGroup],
    page: Page,
    updated_at: datetime | None,
) -> dict:
    return {
        "page": page_block(page, updated_at),
        "components": components_long(components, groups, page),
    }


def incidents(
    items: Iterable[PublicIncident],
    groups: Iterable[ComponentGroup],
    page: Page,
    updated_at: datetime | None,
) -> dict:
    codes = group_codes(groups)
    return {
        "page": page_block(page, updated_at),
        "incidents": [incident_block(i, page, codes) for i in items],
    }


def maintenances(
    items: Iterable[Maintenance],
    groups: Iterable[ComponentGroup],
    page: Page,
    updated_at: datetime | None,
) -> dict:
    codes = group_codes(groups)
    return {
        "page": page_block(page, updated_at),
        "scheduled_maintenances": [maintenance_block(m, page, codes) for m in items],
    }
