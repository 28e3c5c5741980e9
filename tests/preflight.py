"""Stop the test run at once, with a clear message, when PostgreSQL or Redis
is down or the database is not PostgreSQL (tests/conftest.py asks)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


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
    if not database_url.startswith(("postgres://", "postgresql://")):
        found.append(f"DATABASE_URL must point at PostgreSQL for tests (got {database_url!r}).")
    elif err := reachable(database_url, 5432):
        found.append(
            f"PostgreSQL is not reachable at {err}. Start it, e.g.\n"
            "    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    if not redis_url.startswith(("redis://", "rediss://")):
        found.append(f"REDIS_URL must point at Redis for tests (got {redis_url!r}).")
    elif err := reachable(redis_url, 6379):
        found.append(
            f"Redis is not reachable at {err}. Start it, e.g.\n"
            "    redis-server --daemonize yes --bind 127.0.0.1 --port 6379"
            ' --save "" --appendonly no'
        )
    return found
