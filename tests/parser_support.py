"""What the parser tests share: an alert to feed the severity rules, UTC
times, and the refusal a parser raises."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from incidents.ingest.types import ParsedAlert, PayloadError


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def refusal(parse: Callable, *args, **kwargs) -> tuple[str | None, str]:
    """The field and the message of the ``PayloadError`` that ``parse`` raises
    for these arguments; its text is the message (the API answers with it)."""
    with pytest.raises(PayloadError) as caught:
        parse(*args, **kwargs)
    assert str(caught.value) == caught.value.message
    return caught.value.field, caught.value.message


def alert(**fields) -> ParsedAlert:
    fields.setdefault("fingerprint", "fp")
    fields.setdefault("status", "firing")
    fields.setdefault("title", "Something happened")
    return ParsedAlert(**fields)
