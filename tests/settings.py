"""Settings of the test suite: the product's own (treebeard_ir/settings.py),
read with the suite's defaults for what the environment leaves unset.

Tests run on real PostgreSQL and Redis (STYLE.md 14), so a bare ``pytest``
runs as ``make test`` does instead of silently on the SQLite default; the
conftest stops the run with a message naming a server that is down.

Each pytest process (each pytest-xdist worker) gets its own key space in the
shared Redis cache, so rate limits, throttles and the engine's heartbeat
counted by one worker's test never leak into the other's.
"""

from __future__ import annotations

import os

TEST_ENVIRONMENT = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/treebeard",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "STATIC_MANIFEST": "false",
}
for _name, _value in TEST_ENVIRONMENT.items():
    # Into the environment, not only these settings: worker and gunicorn
    # subprocesses that the tests start read the same servers.
    if not os.environ.get(_name, "").strip():
        os.environ[_name] = _value

from treebeard_ir.settings import *  # noqa: E402, F403
from treebeard_ir.settings import CACHES  # noqa: E402

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHES["default"]["KEY_PREFIX"] = f"tbir-test-{_worker}-{os.getpid()}"
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["BACKEND"] = "tests.cache.KeySpaceRedisCache"

# The status page's fast path asks Redis for the version on every request in
# tests, which simulate other processes' changes between two requests;
# tests/test_statuspage_cache.py checks the production window on its own.
STATUS_PAGE_VERSION_CHECK_MS = 0
