"""Count 5xx answers of the ingestion endpoints to hostile input.

Run as `python bench/hostile_ingest.py` (DATABASE_URL pointing at PostgreSQL;
it creates a scratch database of its own beside it, `BENCH_DB` names it). It posts, in-process
through Django's test client:

1. the hostile bodies of tests/test_ingest_hostile.py (NUL, lone surrogates,
   NaN/Infinity, deep nesting, huge integers, not UTF-8, non-object bodies,
   wrong types, times out of range) to every webhook kind and /v2/enqueue;
2. odd bytes in the path token;
3. one real payload per tool with every field in turn (containers too)
   replaced by each of a few hostile values.

It prints the count of requests and of 5xx answers per entry point, and
exits 1 when any answer was a 5xx.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402

HOSTILE_VALUES = ["a\x00b", "\ud800", 1e20, "9999-12-31T23:59:59-12:00", "İ" * 100, []]
REAL = {
    "alertmanager": "alertmanager/webhook_v4_firing.json",
    "grafana": "grafana/webhook_docs_example_firing.json",
    "datadog": "datadog/webhook_default_payload_template.json",
    "sentry": "sentry/issue_alert_event_alert_triggered_docs.json",
    "pagerduty": "pagerduty/events_v2_trigger_docs_example.json",
}


def mutations(payload):
    from tests.ingest_support import field_paths  # needs Django set up first

    for path in field_paths(payload):
        for hostile in HOSTILE_VALUES:
            body = copy.deepcopy(payload)
            parent = body
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = hostile
            yield json.dumps(body).encode()


def main() -> int:
    os.environ["DATABASE_URL"] = scratch_database(
        os.environ.get("BENCH_DB", "treebeard_bench_hostile_ingest"), "bench/hostile_ingest.py"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treebeard_ir.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from incidents.services.integrations import integration_create
    from tests import test_ingest_hostile as corpus
    from tests.ingest_support import sample

    setup_test_environment()
    call_command("migrate", verbosity=0)
    logging.disable(logging.CRITICAL)  # every refusal logs a warning; a 5xx an error
    actor = get_user_model().objects.create_user("bench-manager", password=None)
    client = Client(raise_request_exception=False)
    tokens = {
        kind: integration_create(
            actor=actor, name=f"bench {kind}", kind=kind, rate_limit_per_minute=10**6
        )[1]
        for kind in ("alertmanager", "grafana", "datadog", "sentry", "generic", "pagerduty")
    }
    sent: Counter = Counter()
    errors: Counter = Counter()

    def send(entry: str, path: str, body: bytes) -> None:
        response = client.post(path, data=body, content_type="application/json")
        sent[entry] += 1
        if response.status_code >= 500:
            errors[entry] += 1

    def webhook(kind: str, body: bytes) -> None:
        send(f"webhook {kind}", f"/api/v1/integrations/{tokens[kind]}/{kind}/", body)

    for kind, body, _ in corpus.HOSTILE_BODIES:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        webhook(kind, data.encode() if isinstance(data, str) else data)
    for body, _ in corpus.PD_HOSTILE_BODIES:
        send("/v2/enqueue", "/v2/enqueue", body)
    for changes, _ in corpus.PD_BAD_FIELDS:
        event = sample(REAL["pagerduty"])
        event["routing_key"] = tokens["pagerduty"]
        event["payload"].update(changes)
        send("/v2/enqueue", "/v2/enqueue", json.dumps(event).encode())
    for segment in corpus.PATH_SEGMENTS:
        send("webhook path token", f"/api/v1/integrations/{segment}/generic/", b'{"title": "x"}')
    for kind, name in REAL.items():
        payload = sample(name)
        if kind == "pagerduty":
            payload["routing_key"] = tokens["pagerduty"]
        for body in mutations(payload):
            if kind == "pagerduty":
                send("/v2/enqueue", "/v2/enqueue", body)
            else:
                webhook(kind, body)

    print(f"{'entry point':<24} {'requests':>8} {'5xx':>6}")
    for entry in sorted(sent):
        print(f"{entry:<24} {sent[entry]:>8} {errors[entry]:>6}")
    print(f"{'total':<24} {sum(sent.values()):>8} {sum(errors.values()):>6}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
