"""The incident list of the REST API: filters (the board's too) and pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse

from incidents import services
from tests import factories
from tests.api_support import INCIDENTS, assert_incident_shape, assert_json_error

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

# --- list: filters and pagination -----------------------------------------------


@pytest.fixture
def board(frozen, bob, alice):
    """Five incidents detected an hour apart, oldest first (09:00 … 13:00)."""
    made = {}

    def make(name, hours, **fields):
        made[name] = factories.declare(actor=bob, detected_at=T0 + timedelta(hours=hours), **fields)

    frozen.move_to(T0 + timedelta(hours=5))
    make("checkout", 0, title="Checkout API returning 500s", severity="P1", services=["api"])
    make(
        "db",
        1,
        title="Primary database failover",
        severity="P0",
        services=["database"],
        summary="Replica lag then failover",
    )
    make("drill", 2, title="Game day: cache loss", severity="P2", services=["cache"], is_drill=True)
    make("typo", 3, title="Typo on pricing page", severity="P3", services=["web"])
    make("search", 4, title="Search is slow", severity="P2", services=["api", "search"])
    services.incident_change_status(incident=made["db"], actor=bob, status="identified")
    services.incident_change_status(incident=made["search"], actor=bob, status="monitoring")
    services.incident_resolve(incident=made["typo"], actor=bob, root_cause="Copy error")
    factories.alert(made["drill"], title="KafkaConsumerLagHigh", manager=alice)
    return {name: incident.ref for name, incident in made.items()}


def refs(api, query: str = "") -> list[str]:
    response = api.get(INCIDENTS + query)
    assert response.status_code == 200, response.content
    return [row["ref"] for row in response.json()["results"]]


def test_list_is_newest_detection_first(api, board):
    assert refs(api) == [board[n] for n in ("search", "typo", "drill", "db", "checkout")]


def test_filter_by_one_status(api, board):
    assert refs(api, "?status=identified") == [board["db"]]


def test_filter_by_a_comma_list_of_statuses(api, board):
    assert set(refs(api, "?status=identified,monitoring")) == {board["db"], board["search"]}
    assert set(refs(api, "?status=resolved, identified")) == {board["db"], board["typo"]}


def test_filter_by_severity(api, board):
    assert set(refs(api, "?severity=P2")) == {board["drill"], board["search"]}
    assert set(refs(api, "?severity=P0,P3")) == {board["db"], board["typo"]}


def test_filter_open_true_and_false(api, board):
    assert set(refs(api, "?open=true")) == set(board.values()) - {board["typo"]}
    assert refs(api, "?open=false") == [board["typo"]]


def test_filter_by_service(api, board):
    assert set(refs(api, "?service=api")) == {board["checkout"], board["search"]}
    assert refs(api, "?service=Database") == [board["db"]]
    assert refs(api, "?service=nothing") == []


def test_filter_is_drill(api, board):
    assert refs(api, "?is_drill=true") == [board["drill"]]
    assert board["drill"] not in refs(api, "?is_drill=false")
    assert len(refs(api, "?is_drill=false")) == 4


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("RETURNING 500", ["checkout"]),  # title, any case
        ("replica lag", ["db"]),  # summary
        ("kafkaconsumer", ["drill"]),  # the title of an alert on the incident
    ],
)
def test_q_searches_title_summary_and_alert_names(api, board, q, expected):
    assert refs(api, f"?q={q}") == [board[name] for name in expected]


@pytest.mark.parametrize(
    "query",
    [
        {"severity": "P2"},
        {"status": "identified"},
        {"service": "api"},
        {"q": "replica lag"},
        {"q": "kafkaconsumer"},
        {"severity": "P2", "service": "search", "q": "SLOW"},
    ],
)
def test_the_board_and_the_api_filter_open_incidents_alike(api, client_for, bob, board, query):
    on_board = {
        i.ref for i in client_for(bob).get(reverse("incidents:board"), query).context["incidents"]
    }

    assert on_board  # a filter that matches nothing would prove little
    assert on_board == set(refs(api, "?" + urlencode({**query, "open": "true"})))


def test_q_matches_the_reference(api, board):
    assert refs(api, f"?q={board['drill'].lower()}") == [board["drill"]]
    assert len(refs(api, "?q=INC-20261128")) == 5


def test_filter_by_detection_time(api, board):
    assert set(refs(api, "?detected_after=2026-11-28T11:00:00Z")) == {
        board["drill"],
        board["typo"],
        board["search"],
    }
    assert set(refs(api, "?detected_before=2026-11-28T11:00:00%2B00:00")) == {
        board["checkout"],
        board["db"],
    }
    # A "+" left unencoded in a query string arrives as a space; it still works.
    window = "?detected_after=2026-11-28T10:00:00+00:00&detected_before=2026-11-28T12:00:00Z"
    assert set(refs(api, window)) == {board["db"], board["drill"]}
    assert refs(api, "?detected_after=2026-11-29") == []


def test_filters_combine(api, board):
    assert refs(api, "?open=true&service=api&severity=P1") == [board["checkout"]]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=fixed", "status"),
        ("status=identified,done", "status"),
        ("severity=P9", "severity"),
        ("open=maybe", "open"),
        ("is_drill=perhaps", "is_drill"),
        ("detected_after=yesterday", "detected_after"),
        ("detected_before=2026-13-45", "detected_before"),
        ("detected_before=2026-11-28T25:00:00Z", "detected_before"),
        ("source=pigeon", "source"),
    ],
)
def test_invalid_filter_value_is_400_naming_the_parameter(api, board, query, parameter):
    body = assert_json_error(api.get(f"{INCIDENTS}?{query}"), 400)
    assert list(body["errors"]) == [parameter]
    assert parameter in body["detail"]


def test_pagination_count_next_previous_results(api, board):
    first = api.get(INCIDENTS + "?page_size=2").json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert parse_qs(urlsplit(first["next"]).query) == {"page": ["2"], "page_size": ["2"]}
    second = api.get(first["next"]).json()
    assert [r["ref"] for r in second["results"]] == [board["drill"], board["db"]]
    third = api.get(second["next"]).json()
    assert [r["ref"] for r in third["results"]] == [board["checkout"]]
    assert third["next"] is None
    assert parse_qs(urlsplit(third["previous"]).query)["page"] == ["2"]
    pages = first["results"] + second["results"] + third["results"]
    assert len({r["ref"] for r in pages}) == 5
    for row in pages:
        assert_incident_shape(row)


def test_pagination_keeps_the_filters(api, board):
    page = api.get(INCIDENTS + "?open=true&page_size=1").json()
    assert page["count"] == 4
    assert "open=true" in page["next"]


def test_page_past_the_end_is_404_json(api, board):
    assert_json_error(api.get(INCIDENTS + "?page=9"), 404)


def test_list_reads_in_a_constant_number_of_queries(api, board, django_assert_max_num_queries):
    # Several incidents, their services, roles and deadlines: no query per row.
    with django_assert_max_num_queries(12):
        assert len(refs(api)) == 5
