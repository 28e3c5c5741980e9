"""The status page survives the outage it reports, for real: gunicorn on a
PostgreSQL cluster and a Redis that this module starts, stops and hangs
itself (never the shared ones).

- PostgreSQL stopped: the JSON keeps answering 200 with the last published
  bytes (which say when the page last changed), even from a fresh gunicorn.
- Redis stopped: rendered from the database, changes included.
- Redis hanging with its data kept, then back: nothing stale.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time

import psycopg
import pytest

from statuspage import cache
from tests.sp_serve_support import (
    Gunicorn,
    PausableRedis,
    PostgresCluster,
    manage,
    postgres_bin,
)
from tests.worker_support import eventually

pytestmark = [
    pytest.mark.transactional,
    pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL's initdb"),
]

SUMMARY = "/api/v2/summary.json"
SEED = """
from django.contrib.auth import get_user_model
from statuspage.services.components import component_create
root = get_user_model().objects.create_superuser("root", "root@example.com", "x" * 20)
component_create(actor=root, name="API")
component_create(actor=root, name="Website")
"""
SET_STATUS = """
from django.db import transaction
from statuspage.models import Component
from statuspage.services.page import page_changed
with transaction.atomic():
    Component.objects.filter(name="API").update(status="{status}")
    page_changed()
"""


@pytest.fixture(scope="module")
def world():
    """PostgreSQL (migrated, two components), Redis, and the environment
    that points the product at them."""
    pg = PostgresCluster().create()
    redis = PausableRedis().start()
    admin = f"postgresql://postgres@127.0.0.1:{pg.port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE treebeard")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="treebeard_ir.settings",
        DATABASE_URL=pg.url("treebeard"),
        REDIS_URL=redis.url(0),
        SECRET_KEY=secrets.token_urlsafe(40),
        TREEBEARD_VAR_DIR=tempfile.mkdtemp(prefix="tbir-var-"),
        STATIC_MANIFEST="false",
        DEBUG="false",
        LOG_LEVEL="warning",
    )
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", SEED)
    try:
        yield pg, redis, env
    finally:
        redis.stop()
        pg.destroy()


@pytest.fixture
def server(world):
    _pg, _redis, env = world
    web = Gunicorn(env).start()
    yield web
    web.stop()


def set_status(env, status: str) -> None:
    manage(env, "shell", "-c", SET_STATUS.format(status=status))


def api_status(web: Gunicorn, path: str = SUMMARY) -> str | None:
    code, body, _ = web.get(path)
    if code != 200:
        return None
    return {c["name"]: c["status"] for c in json.loads(body)["components"]}["API"]


def test_postgresql_stopped_the_last_published_json_is_served(world, server):
    pg, redis, env = world
    set_status(env, "partial_outage")
    code, before, headers = server.get(SUMMARY)
    assert code == 200 and api_status(server) == "partial_outage"
    components = server.get("/api/v2/components.json")[1]

    pg.stop()
    try:
        code, during, headers_during = server.get(SUMMARY)
        assert code == 200 and during == before
        assert json.loads(during)["page"]["updated_at"]  # when it last changed
        assert headers_during["ETag"] == headers["ETag"]
        assert server.get("/api/v2/components.json")[1] == components

        # Redis forgot the version (it expires): the last copy still answers.
        redis_client = redis_cli(redis)
        for key in redis_client.scan_iter(match="*statuspage:version"):
            redis_client.delete(key)
        assert server.get(SUMMARY)[:2] == (200, before)

        # A fresh gunicorn (no copy of its own) serves Redis' last copy.
        server.stop()
        server.start()
        assert server.get(SUMMARY)[:2] == (200, before)
        # What was never published cannot be shown: a 503 to retry, not a 500.
        code, _, headers = server.get("/api/v2/incidents/unresolved.json")
        assert code == 503 and headers["Retry-After"]
    finally:
        pg.start()

    set_status(env, "operational")
    assert eventually(lambda: api_status(server) == "operational", timeout=10)


def test_redis_stopped_the_page_is_rendered_from_the_database(world, server):
    _pg, redis, env = world
    set_status(env, "degraded_performance")
    assert api_status(server) == "degraded_performance"

    redis.stop()
    try:
        assert api_status(server) == "degraded_performance"
        set_status(env, "major_outage")  # its news cannot reach Redis
        assert api_status(server) == "major_outage"
    finally:
        redis.start()  # empty, as after a crash

    assert eventually(lambda: api_status(server) == "major_outage", timeout=10)
    set_status(env, "operational")
    assert eventually(lambda: api_status(server) == "operational", timeout=10)


def test_redis_hanging_then_back_with_an_old_version_serves_nothing_stale(world, server):
    _pg, redis, env = world
    set_status(env, "operational")
    assert api_status(server) == "operational"

    redis.pause()  # hangs, keeping the old version and the old bytes
    try:
        assert api_status(server) == "operational"
        set_status(env, "major_outage")  # Redis never hears of it
        assert eventually(lambda: api_status(server) == "major_outage", timeout=10)
    finally:
        redis.resume()

    # Back, still saying the old version: once the server asks Redis again,
    # having seen it hang, it puts it right from the database instead of
    # serving the old bytes again.
    time.sleep(cache.RETRY_SECONDS + 0.5)
    seen = {api_status(server) for _ in range(30)}
    assert seen == {"major_outage"}
    assert eventually(lambda: redis_version(redis) is not None, timeout=10)
    set_status(env, "operational")
    assert eventually(lambda: api_status(server) == "operational", timeout=10)


def redis_cli(redis: PausableRedis):
    import redis as redis_py

    return redis_py.Redis.from_url(redis.url(0))


def redis_version(redis: PausableRedis) -> int | None:
    client = redis_cli(redis)
    for key in client.scan_iter(match="*statuspage:version"):
        return int(client.get(key))
    return None
