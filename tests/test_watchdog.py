"""The engine's watchdog: the ages of the oldest due deadline and of the
oldest undelivered notification, on /api/v1/health/engine/, /readyz and the
admin's "Engine status" page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents.engine import sla
from incidents.engine.watchdog import engine_health
from incidents.models import Deadline, DeadlineKind, Notification
from tests import factories
from tests.api_support import key_client, token_client
from tests.engine_support import MIN, T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

HEALTH = "/api/v1/health/engine/"


@pytest.fixture
def incident(bob):
    # P3: no deadline of its own falls due in these tests' minutes.
    return factories.declare(actor=bob, severity="P3")


def due_deadline(incident, due_at):
    return Deadline.objects.create(
        incident=incident,
        kind=DeadlineKind.ACTION_ITEM,
        severity="P3",
        starts_at=due_at,
        due_at=due_at,
        created_at=T0,
    )


def notification(incident, key: str, *, status: str, next_attempt_at, lease_until=None):
    return Notification.objects.create(
        idempotency_key=key,
        incident=incident,
        transport="slack",
        target="https://x.test/",
        message_kind="initial",
        status=status,
        created_at=T0 - timedelta(hours=1),
        next_attempt_at=next_attempt_at,
        lease_until=lease_until,
    )


def test_an_idle_engine_is_ok_with_zero_ages(incident):
    health = engine_health()

    assert health["status"] == "ok" and health["stalled"] is False
    assert health["oldest_due_deadline_age_seconds"] == 0
    assert health["oldest_undelivered_notification_age_seconds"] == 0
    assert (health["due_deadlines"], health["undelivered_notifications"]) == (0, 0)
    assert health["last_sweep_at"] is None


def test_the_oldest_due_deadline_ages_until_the_sweep_fires_it(incident, frozen):
    due_deadline(incident, T0 - 90 * timedelta(seconds=1))
    due_deadline(incident, T0 - 30 * timedelta(seconds=1))
    due_deadline(incident, T0 + 10 * MIN)  # not due: not counted

    health = engine_health()
    assert health["oldest_due_deadline_age_seconds"] == 90
    assert health["due_deadlines"] == 2
    assert health["stalled"] is False

    frozen.shift(timedelta(seconds=31))  # 121 s: past the two minutes
    assert engine_health()["stalled"] is True

    sla.sweep()
    after = engine_health()
    assert (after["oldest_due_deadline_age_seconds"], after["status"]) == (0, "ok")
    assert after["last_sweep_at"] == (T0 + timedelta(seconds=31)).isoformat()
    assert after["last_sweep_age_seconds"] == 0


def test_undelivered_notifications_age_from_when_they_were_due(incident):
    notification(incident, "a", status="pending", next_attempt_at=T0 - 50 * timedelta(seconds=1))
    notification(incident, "b", status="pending", next_attempt_at=T0 + MIN)  # backing off
    notification(
        incident,
        "c",
        status="sending",
        next_attempt_at=T0 - 10 * MIN,
        lease_until=T0 + 30 * timedelta(seconds=1),
    )  # being sent right now
    notification(incident, "d", status="delivered", next_attempt_at=T0 - 60 * MIN)

    health = engine_health()

    assert health["oldest_undelivered_notification_age_seconds"] == 50
    assert health["undelivered_notifications"] == 1
    assert health["stalled"] is False


def test_a_delivery_whose_worker_died_counts_once_its_lease_lapsed(incident):
    notification(
        incident,
        "c",
        status="sending",
        next_attempt_at=T0 - 3 * MIN,
        lease_until=T0 - timedelta(seconds=1),
    )

    health = engine_health()

    assert health["oldest_undelivered_notification_age_seconds"] == 180
    assert (health["stalled"], health["status"]) == (True, "stalled")


def test_the_stall_threshold_comes_from_settings(incident, settings):
    settings.ENGINE_STALL_SECONDS = 30
    due_deadline(incident, T0 - 45 * timedelta(seconds=1))

    health = engine_health()

    assert (health["stall_threshold_seconds"], health["stalled"]) == (30, True)


# --- the API -----------------------------------------------------------------------------


def test_engine_health_api_needs_a_signed_in_user(client):
    response = client.get(HEALTH)

    assert response.status_code == 401
    assert "detail" in response.json()


def test_engine_health_api_answers_a_read_token_with_the_figures(incident, vera):
    due_deadline(incident, T0 - 3 * MIN)

    response = token_client(vera, "read").get(HEALTH)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["stalled"]) == ("stalled", True)
    assert body["oldest_due_deadline_age_seconds"] == 180
    assert body["due_deadlines"] == 1
    assert set(body) >= {
        "oldest_undelivered_notification_age_seconds",
        "undelivered_notifications",
        "last_sweep_at",
        "checked_at",
    }


def test_engine_health_api_refuses_a_token_without_the_read_scope(bob):
    from incidents.services.tokens import api_token_create

    _, key = api_token_create(actor=bob, user=bob, scopes=("ingest",))

    assert key_client(key).get(HEALTH).status_code == 403


def test_engine_health_api_works_for_a_browser_session(charlie, client_for):
    response = client_for(charlie).get(HEALTH)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# --- /readyz -----------------------------------------------------------------------------


def test_readyz_fails_when_the_engine_is_stalled(incident, client):
    due_deadline(incident, T0 - 3 * MIN)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["broker"], body["engine"]) == (
        "unavailable",
        "ok",
        "ok",
        "stalled",
    )
    [error] = body["errors"]
    assert error.startswith("engine: stalled: oldest due deadline 180 s")


def test_readyz_is_ready_again_once_the_sweep_caught_up(incident, client):
    due_deadline(incident, T0 - 3 * MIN)
    sla.sweep()

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["engine"] == "ok"


# --- the admin page ---------------------------------------------------------------------------


def test_the_admin_index_links_to_the_engine_status_page(alice, client_for, incident):
    due_deadline(incident, T0 - 3 * MIN)
    client = client_for(alice)

    index = client.get("/admin/").content.decode()
    page = client.get("/admin/engine-status/")

    assert 'href="/admin/engine-status/"' in index
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stalled" in html
    assert "Oldest due deadline not fired</th><td>180 s" in html


def test_the_engine_status_page_is_for_staff_only(bob, client_for):
    response = client_for(bob).get("/admin/engine-status/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_board_warns_responders_when_the_engine_is_behind(incident, client_for, bob, alice):
    board = client_for(bob).get("/").content.decode()
    assert "Pages and notifications are delayed" not in board

    due_deadline(incident, T0 - timedelta(minutes=7))

    board = client_for(bob).get("/").content.decode()
    assert "Pages and notifications are delayed" in board
    assert "7m behind" in board
    assert "engine-status" not in board  # the admin link is for managers
    assert "/admin/engine-status/" in client_for(alice).get("/").content.decode()


def test_a_short_lag_is_not_an_alarm(incident, client_for, bob):
    due_deadline(incident, T0 - timedelta(seconds=90))  # under ENGINE_STALL_SECONDS

    assert "Pages and notifications are delayed" not in client_for(bob).get("/").content.decode()
