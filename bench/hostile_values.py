"""The hostile values of ``hostile_inputs.py``, by class, and the ``Probe``
that sends them and counts the answers (``hostile_probes.py`` uses both)."""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

CLASSES = [
    "nul",
    "surrogate",
    "nan",
    "deep",
    "bigint",
    "date",
    "long",
    "nonobject",
    "percent",
    "malformed",
]
INGEST_KINDS = ["alertmanager", "grafana", "datadog", "sentry", "generic"]

NUL = "bad\x00value"
SURROGATE_JSON = '"bad\\ud800value"'  # a lone surrogate as JSON writes it
SURROGATE_URL = "%ED%A0%80"  # the same code point as (invalid) UTF-8
BIG_DIGITS = "9" * 5000
BIG_ID = "99999999999999999999999"
FAR_DATES = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "275760-01-01T00:00:00Z",
    "2026-06-25T15:56:12+17:18",  # an offset datetime takes and PostgreSQL does not
]
LONG = "x" * 5000
# One value of each class that fits in a URL or a form field.
URL_VALUES = (
    ("nul", "a%00b"),
    ("surrogate", SURROGATE_URL),
    ("percent", "%ff"),
    ("long", LONG),
    ("nan", "NaN"),
    ("bigint", BIG_DIGITS),
)


def deep(levels: int = 5000) -> str:
    return "[" * levels + "]" * levels


def raw_json(template: dict, field: str, raw_value: str) -> bytes:
    """``template`` as JSON with ``field`` set to raw JSON text (which json.dumps
    could not write: NaN is allowed there, a lone surrogate is escaped)."""
    body = dict(template)
    body[field] = "__RAW__"
    return json.dumps(body).replace('"__RAW__"', raw_value).encode()


def json_bodies(template: dict, text_fields: list[str], number_fields: list[str]) -> dict:
    """Hostile JSON bodies by class, built on a valid ``template``."""
    out: dict[str, list[bytes]] = defaultdict(list)
    for name in text_fields:
        out["nul"].append(raw_json(template, name, json.dumps(NUL)))
        out["surrogate"].append(raw_json(template, name, SURROGATE_JSON))
        out["deep"].append(raw_json(template, name, deep()))
        out["long"].append(raw_json(template, name, json.dumps(LONG)))
        out["nan"].append(raw_json(template, name, "NaN"))
        out["bigint"].append(raw_json(template, name, BIG_DIGITS))
    out["nul"].append(raw_json(template, "\\u0000", "1"))
    for name in number_fields:
        for raw in ("NaN", "Infinity", "-Infinity", "1e999"):
            out["nan"].append(raw_json(template, name, raw))
        for raw in (BIG_DIGITS, BIG_ID, "-" + BIG_ID):
            out["bigint"].append(raw_json(template, name, raw))
    out["deep"].append(deep().encode())
    out["nonobject"] += [b"[]", b"[{}]", b'"text"', b"1", b"null", b"true"]
    out["malformed"] += [b"\xff\xfe{}", b"{", b'{"a": 1,}', b"\xef\xbb\xbf\xff"]
    return out


class Probe:
    """Sends requests, counts them per (class, entry point) and the 5xx."""

    def __init__(self, client):
        self.client = client
        self.sent: Counter = Counter()
        self.errors: Counter = Counter()
        self.failures: list[tuple[str, str, str, str, str]] = []

    def send(self, cls: str, entry: str, method: str, path: str, then=(), **kwargs) -> None:
        """One probe; ``then``: (client, path) pages read after it in the same
        transaction (what a stored value does to the pages showing it)."""
        from django.core.signals import got_request_exception
        from django.db import transaction

        raised: list[BaseException] = []

        def keep(sender, request=None, **kw):
            raised.append(sys.exc_info()[1])

        got_request_exception.connect(keep)
        try:
            with transaction.atomic():
                try:
                    response = self.client.generic(method, path, **kwargs)
                    status = response.status_code
                    for client, page in then:
                        status = max(status, client.get(page).status_code)
                except Exception as exc:  # a crash outside the handler is a 500 too
                    raised.append(exc)
                    status = 500
                transaction.set_rollback(True)
        except Exception as exc:  # the rollback itself failed: count it
            raised.append(exc)
            status = 500
        finally:
            got_request_exception.disconnect(keep)
        self.sent[cls, entry] += 1
        if status >= 500:
            self.errors[cls, entry] += 1
            what = (
                f"{type(raised[0]).__name__}: {(str(raised[0]).splitlines() or [''])[0][:120]}"
                if raised
                else ""
            )
            self.failures.append((cls, entry, method, path[:100], what))

    def json(self, cls, entry, method, path, body: bytes, content_type="application/json"):
        self.send(cls, entry, method, path, data=body, content_type=content_type)

    def form(self, cls, entry, path, body: bytes | str):
        if isinstance(body, str):
            body = body.encode("latin-1")
        self.send(
            cls,
            entry,
            "POST",
            path,
            data=body,
            content_type="application/x-www-form-urlencoded",
        )

    def get(self, cls, entry, path):
        self.send(cls, entry, "GET", path)
