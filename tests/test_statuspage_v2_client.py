"""The v2 JSON read as a strict Statuspage client reads it: every field of
the right type, every enum value one Statuspage uses, every timestamp
ISO 8601 with milliseconds and an offset. The same checks pass on the
documented examples, so they check Statuspage's shapes, not ours."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from tests.sp_serve_support import ENDPOINTS, STATUS, full_page, sample

pytestmark = pytest.mark.django_db

STAMP = re.compile(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)\Z")
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}


def stamp(value, *, nullable=False):
    if value is None and nullable:
        return
    assert isinstance(value, str) and STAMP.match(value), value
    assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def text(value, *, nullable=False):
    assert isinstance(value, str) or (nullable and value is None), value


def check_page(page: dict) -> None:
    text(page["id"])
    text(page["name"])
    assert page["url"].startswith(("https://", "http://")), page["url"]
    if "time_zone" in page:
        text(page["time_zone"])
    stamp(page["updated_at"])


def check_component(item: dict, page_id: str) -> None:
    text(item["id"])
    text(item["name"])
    text(item["description"], nullable=True)
    assert item["status"] in COMPONENT_STATUSES
    assert isinstance(item["position"], int)
    assert item["page_id"] == page_id
    stamp(item["created_at"])
    stamp(item["updated_at"])
    if "group" in item:  # the long form
        assert isinstance(item["group"], bool)
        text(item["group_id"], nullable=True)
        assert isinstance(item["showcase"], bool)
        assert isinstance(item["only_show_if_degraded"], bool)
        if item["start_date"] is not None:
            date.fromisoformat(item["start_date"])
        if item["group"]:
            assert item["group_id"] is None
            assert all(isinstance(child, str) for child in item["components"])


def check_update(update: dict, parent: dict, statuses: set[str]) -> None:
    text(update["id"])
    text(update["body"])
    assert update["incident_id"] == parent["id"]
    assert update["status"] in statuses
    for name in ("created_at", "updated_at", "display_at"):
        stamp(update[name])
    for item in update.get("affected_components") or []:
        assert set(item) == {"code", "name", "old_status", "new_status"}
        assert item["new_status"] in COMPONENT_STATUSES
        assert item["old_status"] in COMPONENT_STATUSES | {""}


def check_incident(item: dict, page_id: str, *, maintenance: bool) -> None:
    statuses = MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES
    text(item["id"])
    text(item["name"])
    assert item["status"] in statuses
    assert item["impact"] in IMPACTS
    assert item["page_id"] == page_id
    text(item["shortlink"])
    for name in ("created_at", "updated_at"):
        stamp(item[name])
    for name in ("monitoring_at", "resolved_at", "started_at"):
        stamp(item.get(name), nullable=True)
    if maintenance:
        stamp(item["scheduled_for"])
        stamp(item["scheduled_until"])
    for update in item["incident_updates"]:
        check_update(update, item, statuses)
    for component in item.get("components") or []:
        check_component(component, page_id)


def check_body(body: dict) -> None:
    check_page(body["page"])
    page_id = body["page"]["id"]
    if "status" in body:
        assert body["status"]["indicator"] in INDICATORS
        text(body["status"]["description"])
    for component in body.get("components") or []:
        check_component(component, page_id)
    for incident in body.get("incidents") or []:
        check_incident(incident, page_id, maintenance=False)
    for item in body.get("scheduled_maintenances") or []:
        check_incident(item, page_id, maintenance=True)


@pytest.mark.parametrize("name", sorted(ENDPOINTS.values()))
def test_the_checks_accept_statuspages_own_examples(name):
    check_body(sample(name))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_strict_client_reads_every_endpoint(client, alice, bob, endpoint):
    full_page(alice, bob)

    body = client.get(f"/api/v2/{endpoint}", HTTP_HOST=STATUS).json()

    check_body(body)


def test_a_group_lists_only_components_that_exist(client, alice, bob):
    full_page(alice, bob)

    items = client.get("/api/v2/components.json", HTTP_HOST=STATUS).json()["components"]
    ids = {c["id"] for c in items if not c["group"]}

    for group in (c for c in items if c["group"]):
        assert set(group["components"]) <= ids
