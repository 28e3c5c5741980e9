"""Statuspage's public API v2: every endpoint against the documented examples
(tests/fixtures/statuspage/), key by key and enum by enum, on the status host
and under /status/ on the main host."""

from __future__ import annotations

import pytest

from statuspage.models import PageState
from tests.sp_serve_support import ENDPOINTS, SECRET, STATUS, full_page, sample

pytestmark = pytest.mark.django_db

# What real Statuspage pages add to the documented examples (the samples' README).
INCIDENT_EXTRA = {"started_at", "components"}
UPDATE_EXTRA = {"affected_components", "deliver_notifications", "custom_tweet", "tweet_id"}
LONG_EXTRA = {"group", "group_id", "showcase", "start_date", "only_show_if_degraded"}


@pytest.fixture
def page(alice, bob):
    return full_page(alice, bob)


def get(client, endpoint: str, *, host: str = STATUS, prefix: str = ""):
    response = client.get(f"{prefix}/api/v2/{endpoint}", HTTP_HOST=host)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    return response


def first_item(body: dict) -> dict:
    for value in body.values():
        if isinstance(value, list) and value:
            return value[0]
    raise AssertionError("no list in the sample")


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_endpoint_has_the_samples_keys(client, page, endpoint):
    expected = sample(ENDPOINTS[endpoint])
    body = get(client, endpoint).json()

    assert set(body) == set(expected)
    assert set(body["page"]) == set(expected["page"]) | {"time_zone"}
    if "status" in expected:
        assert set(body["status"]) == set(expected["status"])
    for name, items in expected.items():
        if not isinstance(items, list):
            continue
        assert body[name], f"{endpoint}: {name} is empty, nothing to compare"
        want = set(items[0])
        for item in body[name]:
            if name == "components" and endpoint == "components.json":
                extra = {"components"} if item["group"] else set()
                assert set(item) == want | extra, item
            elif name == "components":
                assert set(item) == want, item  # summary: the short form
            else:
                assert set(item) == want | INCIDENT_EXTRA, item
                update_keys = set(items[0]["incident_updates"][0])
                for update in item["incident_updates"]:
                    assert set(update) == update_keys | UPDATE_EXTRA, update
                for component in item["components"]:
                    long_keys = set(first_item(sample("docs_example_components.json")))
                    assert set(component) == long_keys, component


def test_the_long_component_form_is_the_short_one_plus_the_real_pages_fields():
    short = set(first_item(sample("docs_example_summary.json")))
    long = set(first_item(sample("docs_example_components.json")))

    assert long == short | LONG_EXTRA


def test_the_summary_shows_the_open_incident_and_the_maintenances(client, page):
    body = get(client, "summary.json").json()

    assert [i["id"] for i in body["incidents"]] == [page["open"].code]
    assert [m["id"] for m in body["scheduled_maintenances"]] == [
        page["active"].code,
        page["upcoming"].code,
    ]
    assert body["status"] == {"indicator": "minor", "description": "Partially Degraded Service"}
    statuses = {c["id"]: c["status"] for c in body["components"]}
    assert statuses == {
        page["web"].code: "operational",
        page["rest"].code: "degraded_performance",
        page["hooks"].code: "operational",
    }


def test_components_list_groups_as_statuspage_does(client, page):
    items = get(client, "components.json").json()["components"]
    by_id = {c["id"]: c for c in items}
    group = by_id[page["group"].code]

    assert group["group"] is True and group["group_id"] is None
    assert group["components"] == [page["rest"].code, page["hooks"].code]
    assert group["status"] == "degraded_performance"  # its worst member's
    assert by_id[page["rest"].code]["group_id"] == page["group"].code
    assert by_id[page["rest"].code]["group"] is False
    assert by_id[page["web"].code]["group_id"] is None
    assert by_id[page["web"].code]["description"] is None  # blank is null, as on Statuspage
    assert by_id[page["rest"].code]["description"] == "JSON over HTTP"


def test_incidents_carry_their_updates_newest_first_and_their_components(client, page):
    body = get(client, "incidents.json").json()
    by_id = {i["id"]: i for i in body["incidents"]}
    resolved = by_id[page["resolved"].code]
    opened = by_id[page["open"].code]

    assert [u["status"] for u in resolved["incident_updates"]] == ["resolved", "investigating"]
    assert resolved["resolved_at"] is not None and resolved["status"] == "resolved"
    assert resolved["shortlink"] == f"https://{STATUS}/incidents/{page['resolved'].code}"
    assert opened["incident_updates"][0]["affected_components"] == [
        {
            "code": page["rest"].code,
            "name": "REST",
            "old_status": "operational",
            "new_status": "degraded_performance",
        }
    ]
    assert resolved["incident_updates"][0]["incident_id"] == page["resolved"].code
    assert [c["id"] for c in opened["components"]] == [page["rest"].code]
    assert opened["components"][0]["group_id"] == page["group"].code


def test_unresolved_and_maintenance_lists_filter_by_status(client, page):
    unresolved = get(client, "/".join(["incidents", "unresolved.json"])).json()["incidents"]
    upcoming = get(client, "scheduled-maintenances/upcoming.json").json()
    active = get(client, "scheduled-maintenances/active.json").json()
    every = get(client, "scheduled-maintenances.json").json()

    assert [i["id"] for i in unresolved] == [page["open"].code]
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == [page["upcoming"].code]
    assert [m["id"] for m in active["scheduled_maintenances"]] == [page["active"].code]
    assert {m["id"] for m in every["scheduled_maintenances"]} == {
        page["upcoming"].code,
        page["active"].code,
    }
    assert upcoming["scheduled_maintenances"][0]["scheduled_for"].endswith("Z")


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_nothing_internal_reaches_the_json(client, page, endpoint):
    assert SECRET.encode() not in get(client, endpoint).content


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_the_main_host_serves_the_same_json_under_status(client, page, endpoint):
    on_status_host = get(client, endpoint).content
    on_main_host = get(client, endpoint, host="127.0.0.1", prefix="/status")

    assert on_main_host.content == on_status_host
    assert not on_main_host.cookies and "Set-Cookie" not in on_main_host


def test_the_page_block_says_when_the_page_last_changed(client, page, settings):
    settings.STATUS_PAGE_NAME = "Acme"
    settings.STATUS_PAGE_ID = "acme00000001"
    state = PageState.objects.get()
    body = get(client, "status.json").json()

    assert body["page"] == {
        "id": "acme00000001",
        "name": "Acme",
        "url": f"https://{STATUS}",
        "time_zone": "Etc/UTC",
        "updated_at": state.updated_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def test_timestamps_are_in_the_pages_time_zone_with_milliseconds(client, page, settings):
    settings.STATUS_PAGE_TIME_ZONE = "America/Denver"
    body = get(client, "incidents.json").json()
    created = body["incidents"][0]["created_at"]

    assert body["page"]["time_zone"] == "America/Denver"
    assert created[-6:] in ("-06:00", "-07:00"), created
    assert created[19] == "." and len(created) == len("2014-05-14T14:22:39.441-06:00")


def test_an_empty_page_is_all_systems_operational(client, db):
    body = get(client, "summary.json").json()

    assert body["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert body["components"] == body["incidents"] == body["scheduled_maintenances"] == []
    assert body["page"]["updated_at"] is not None


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_json_is_read_only(client, db, method):
    response = getattr(client, method)("/api/v2/summary.json", HTTP_HOST=STATUS)

    assert response.status_code == 405
    assert not response.cookies
