"""Stop the test run at once, with a clear message, when PostgreSQL or Redis
is down or a URL names another kind of server (tests/conftest.py asks)."""

from __future__ import annotations

import socket
from typing import NamedTuple
from urllib.parse import urlsplit


class Server(NamedTuple):
    variable: str
    name: str
    schemes: tuple[str, ...]
    default_port: int
    start: str


POSTGRESQL = Server(
    "DATABASE_URL",
    "PostgreSQL",
    ("postgres", "postgresql"),
    5432,
    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
)
REDIS = Server(
    "REDIS_URL",
    "Redis",
    ("redis", "rediss"),
    6379,
    'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
)


def reachable(url: str, default_port: int) -> str | None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return f"{host}:{port} ({exc.strerror or exc})"


def problems(database_url: str, redis_url: str) -> list[str]:
    """What stands between the suite and its servers; empty when nothing does."""
    found = []
    for server, url in ((POSTGRESQL, database_url), (REDIS, redis_url)):
        if urlsplit(url).scheme not in server.schemes:
            found.append(f"{server.variable} must point at {server.name} for tests (got {url!r}).")
        elif err := reachable(url, server.default_port):
            found.append(
                f"{server.name} is not reachable at {err}. Start it, e.g.\n    {server.start}"
            )
    return found
