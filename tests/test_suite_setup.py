"""How the suite runs: ``pytest`` alone behaves as ``make test`` does (on
PostgreSQL and Redis, never silently on SQLite), and parallel workers do not
share cache keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis
from django.conf import settings
from django.core.cache import cache

from tests import preflight
from tests.settings import TEST_ENVIRONMENT
from tests.worker_support import spare_port

ROOT = Path(__file__).resolve().parent.parent


def bare_pytest(**env: str) -> subprocess.CompletedProcess:
    """``pytest --collect-only`` as someone would type it: none of the
    variables ``make test`` or this run (xdist, pytest-django) set."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k not in TEST_ENVIRONMENT and not k.startswith(("PYTEST_", "DJANGO_"))
    }
    command = [
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--collect-only",
        "tests/test_durations.py",
    ]
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bare_pytest_runs_on_postgresql_and_redis_or_says_what_to_start():
    result = bare_pytest()

    down = preflight.problems(TEST_ENVIRONMENT["DATABASE_URL"], TEST_ENVIRONMENT["REDIS_URL"])
    if down:  # this run uses other servers: the defaults' are not running here
        assert result.returncode == 4, result.stdout + result.stderr
        assert "make test" in result.stdout + result.stderr
        return
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database: postgresql treebeard at 127.0.0.1:5432" in result.stdout
    assert "cache: redis://127.0.0.1:6379/15 keys tbir-test-main-" in result.stdout


def test_pytest_stops_at_once_naming_a_database_that_is_not_postgresql(tmp_path):
    result = bare_pytest(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert result.returncode == 4
    output = result.stdout + result.stderr
    assert "DATABASE_URL must point at PostgreSQL for tests (got 'sqlite:///" in output
    assert "Run the suite with `make test`" in output
    assert "collected" not in output


def test_each_worker_clears_only_its_own_cache_keys():
    other = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    foreign = "tbir-test-another-worker:1:throttle_user_1"
    other.set(foreign, "3", ex=60)
    cache.set("throttle_user_1", "5")

    cache.clear()

    assert cache.get("throttle_user_1") is None
    assert other.get(foreign) == b"3"
    other.delete(foreign)
    assert settings.CACHES["default"]["KEY_PREFIX"].startswith(
        f"tbir-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-"
    )


def test_a_server_that_is_down_is_named_with_how_to_start_it():
    closed = spare_port()

    found = preflight.problems(
        f"postgres://postgres@127.0.0.1:{closed}/treebeard", f"redis://127.0.0.1:{closed}/15"
    )

    assert [line.split(" is not reachable at ")[0] for line in found] == ["PostgreSQL", "Redis"]
    assert "pg_ctlcluster" in found[0]
    assert "redis-server" in found[1]
