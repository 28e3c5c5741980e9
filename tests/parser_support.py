"""What the parser tests share: an alert to feed the severity rules, and
UTC times."""

from __future__ import annotations

from datetime import UTC, datetime

from incidents.ingest.types import ParsedAlert


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def alert(**fields) -> ParsedAlert:
    fields.setdefault("fingerprint", "fp")
    fields.setdefault("status", "firing")
    fields.setdefault("title", "Something happened")
    return ParsedAlert(**fields)
