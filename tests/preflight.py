"""Stop `make test` early, with a clear message, when PostgreSQL or Redis is down."""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit


def reachable(url: str, default_port: int) -> str | None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return f"{host}:{port} ({exc.strerror or exc})"


def main() -> int:
    problems = []
    db = os.environ.get("DATABASE_URL", "")
    if not db.startswith(("postgres://", "postgresql://")):
        problems.append(f"DATABASE_URL must point at PostgreSQL for tests (got {db!r}).")
    elif err := reachable(db, 5432):
        problems.append(
            f"PostgreSQL is not reachable at {err}. Start it, e.g.\n"
            "    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    redis = os.environ.get("REDIS_URL", "")
    if err := reachable(redis, 6379):
        problems.append(
            f"Redis is not reachable at {err}. Start it, e.g.\n"
            "    redis-server --daemonize yes --bind 127.0.0.1 --port 6379"
            ' --save "" --appendonly no'
        )
    for problem in problems:
        print(f"make test: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
