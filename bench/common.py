"""What the benchmarks share: a scratch PostgreSQL database of their own."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit


def scratch_database(name: str, script: str) -> str:
    """Drop and create database ``name`` beside DATABASE_URL's; return its URL."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/treebeard")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"{script} needs DATABASE_URL pointing at PostgreSQL.")
    import psycopg

    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(parts._replace(path=f"/{name}"))
