"""/healthz (the process is up) and /readyz (database and broker answer),
against the real PostgreSQL and Redis of the test run."""

from __future__ import annotations

import socket

import pytest
from django.conf import settings

from treebeard_ir.celery import app as celery_app


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_broker(closed_port):
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    yield
    celery_app.conf.broker_url = previous


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_when_database_and_broker_answer(client):
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "tests run against real Redis"

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "engine": "ok"}


@pytest.mark.django_db
def test_readyz_is_unavailable_and_names_the_broker_when_it_does_not_answer(client, dead_broker):
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["broker"]) == ("unavailable", "ok", "down")
    [error] = body["errors"]
    assert error.startswith("broker: ")
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_unavailable_and_names_the_database_when_it_does_not_answer(client):
    # Outside django_db, pytest-django refuses every query: the database "is down".
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["broker"]) == ("down", "ok")
    assert body["engine"] == "unknown"  # not checked without a database
    assert body["errors"][0].startswith("database: ")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_accept_only_get(client, path):
    assert client.post(path).status_code == 405
