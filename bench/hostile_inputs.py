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

import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402
from bench.hostile_values import CLASSES, Probe  # noqa: E402

DB_NAME = "treebeard_bench_hostile"


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
