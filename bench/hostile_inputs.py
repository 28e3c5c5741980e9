"""Hostile input at every entry point: how many requests answer 5xx.

Run by `make bench` (or `python bench/hostile_inputs.py`). It creates a
scratch database, sets up one of everything (people and their API tokens,
an incident, a schedule with a rotation, a channel, an integration of each
kind, an acknowledge link) and drives every entry point through Django's
test client with each class of hostile input:

    nul         NUL characters (JSON \\u0000, %00 in paths, queries and forms)
    surrogate   lone surrogates (JSON \\ud800, their UTF-8 form in URLs)
    nan         NaN / Infinity / 1e999 where a number or a value goes
    deep        JSON nested far past any sane depth
    bigint      integers past Python's conversion limit or PostgreSQL's bigint
    date        dates out of range (9999-12-31 in Etc/GMT+12, year 1)
    long        values longer than their column (titles, services, names)
    nonobject   a JSON list, string, number or null where an object goes
    percent     broken percent-encoding (%ff) in paths and queries
    malformed   broken multipart / urlencoded / non-UTF-8 bodies, oversized forms

Each probe runs in a transaction that is rolled back, so one probe cannot
poison the next (a stored year-9999 override would turn every later on-call
page into a 500 and count it many times over). An exception inside a view
counts as a 500, as it would behind gunicorn. It prints a table class x
entry point -> requests / 5xx and exits 1 when any 5xx was seen (so `make
bench` says so); BENCH_HOSTILE_SHOW=1 also lists each 5xx with its exception.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402

DB_NAME = "treebeard_bench_hostile"
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


def report(probe: Probe) -> int:
    entries = sorted({entry for _cls, entry in probe.sent})
    width = max(len(e) for e in entries) + 2
    print("requests / 5xx by class of input (columns) and entry point (rows)\n")
    print(" " * width + "".join(f"{c:>12}" for c in CLASSES) + f"{'total':>12}")
    totals_sent: Counter = Counter()
    totals_err: Counter = Counter()
    for entry in entries:
        cells = []
        row_sent = row_err = 0
        for cls in CLASSES:
            sent, err = probe.sent[cls, entry], probe.errors[cls, entry]
            row_sent += sent
            row_err += err
            totals_sent[cls] += sent
            totals_err[cls] += err
            cells.append(f"{f'{sent}/{err}' if sent else '-':>12}")
        print(f"{entry:<{width}}" + "".join(cells) + f"{f'{row_sent}/{row_err}':>12}")
    all_sent, all_err = sum(totals_sent.values()), sum(totals_err.values())
    print(
        f"{'total':<{width}}"
        + "".join(f"{f'{totals_sent[c]}/{totals_err[c]}':>12}" for c in CLASSES)
        + f"{f'{all_sent}/{all_err}':>12}"
    )
    print(f"\n{all_sent} hostile requests, {all_err} answered 5xx.")
    if os.environ.get("BENCH_HOSTILE_SHOW"):
        for failure in probe.failures:
            print("  5xx", *failure)
    return 1 if all_err else 0


def main() -> int:
    db_url = scratch_database(DB_NAME, "bench/hostile_inputs.py")
    os.environ.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        STATIC_MANIFEST="false",
        LOG_LEVEL="CRITICAL",
        API_RATE_USER="1000000/min",
        API_RATE_ANON="1000000/min",
        DEBUG="false",
    )
    import logging

    import django

    django.setup()
    logging.disable(logging.CRITICAL)  # a 500's traceback is counted, not printed
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # 'testserver' host, in-memory mail
    call_command("migrate", verbosity=0)
    from bench.hostile_probes import (
        ENTRY_POINTS,
        ack_link,
        api_bodies,
        api_paths,
        api_queries,
        calendar_feed,
        enqueue,
        ingestion,
        setup_world,
    )

    world = setup_world()
    client = Client(raise_request_exception=False)
    client.force_login(world["alice"])
    probe = Probe(client)
    world["session"] = client
    # The API as a token holder would call it (sessions need CSRF there).
    api_client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {world['key']}")
    world["api"] = api_client
    for entry_point in ENTRY_POINTS:
        probe.client = api_client if entry_point in (api_bodies, api_queries, api_paths) else client
        if entry_point in (calendar_feed, ack_link, ingestion, enqueue):
            # Public entries: no session, as a calendar app, a mail client or a tool.
            probe.client = Client(raise_request_exception=False)
        entry_point(probe, world)
    return report(probe)


if __name__ == "__main__":
    sys.exit(main())
