"""Alert ingestion under load, against gunicorn on PostgreSQL.

Run by `make bench` (or `python bench/ingest.py`). It creates a scratch
database, starts gunicorn on a free loopback port, and posts:

1. baseline: a bare Django view that parses JSON and inserts one row;
2. a storm of Alertmanager webhook batches: 10,000 alerts over 10 fingerprints;
3. PagerDuty Events API v2 triggers to /v2/enqueue over 10 dedup keys.

The three run in turns (``BENCH_ROUNDS``, each a share of every load), so a
machine whose load drifts during the run slows all three alike. It prints
rows or alerts/s and p50/p99 request latency of each, then the two ratios
that matter: alerts stored per second over the baseline's rows per second,
for Alertmanager batches of 10 and for single PagerDuty events (the target
is at least x0.50). It then checks the storm ended as exactly 10 incidents
holding 10,000 alerts, and PagerDuty's as 10 (exit 1 if not, or if any
request failed).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402

STORM_ALERTS = int(os.environ.get("BENCH_STORM_ALERTS", 10_000))
FINGERPRINTS = 10
BATCH = int(os.environ.get("BENCH_BATCH", 10))
PD_EVENTS = int(os.environ.get("BENCH_PD_EVENTS", 2_000))
BASELINE_REQUESTS = int(os.environ.get("BENCH_BASELINE", 2_000))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 8))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
THREADS = os.environ.get("BENCH_THREADS", "4")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
TARGET = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_many(port: int, requests: list[tuple[str, bytes]]) -> tuple[float, list[float], list]:
    """Send requests from CLIENTS keep-alive connections; return wall time,
    per-request latencies and any non-2xx answers."""
    latencies: list[float] = []
    failures: list = []
    lock = threading.Lock()
    index = iter(range(len(requests)))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local, bad = [], []
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                break
            path, body = requests[i]
            start = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            answer = response.read()
            local.append(time.perf_counter() - start)
            if response.status >= 300:
                bad.append((response.status, answer[:200]))
        conn.close()
        with lock:
            latencies.extend(local)
            failures.extend(bad)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, failures


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def alertmanager_batches(token: str) -> list[tuple[str, bytes, int]]:
    base = datetime(2026, 11, 28, tzinfo=UTC)
    alerts = []
    for i in range(STORM_ALERTS):
        f = i % FINGERPRINTS
        alerts.append(
            {
                "status": "firing",
                "labels": {
                    "alertname": f"BenchAlert{f}",
                    "service": "bench",
                    "severity": "warning",
                },
                "annotations": {"summary": f"Bench alert {f}"},
                # Each alert is a new occurrence of its fingerprint: a new startsAt.
                "startsAt": (base + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.bench/graph",
                "fingerprint": f"{f:016x}",
            }
        )
    requests = []
    for start in range(0, len(alerts), BATCH):
        batch = alerts[start : start + BATCH]
        body = {
            "receiver": "treebeard",
            "status": "firing",
            "alerts": batch,
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.bench",
            "version": "4",
            "groupKey": f'{{}}:{{batch="{start}"}}',
            "truncatedAlerts": 0,
        }
        path = f"/api/v1/integrations/{token}/alertmanager/"
        requests.append((path, json.dumps(body).encode(), len(batch)))
    return requests


def pagerduty_events(token: str) -> list[tuple[str, bytes, int]]:
    base = datetime(2026, 11, 28, tzinfo=UTC)
    requests = []
    for i in range(PD_EVENTS):
        event = {
            "routing_key": token,
            "event_action": "trigger",
            "dedup_key": f"pd-bench-{i % 10}",
            "payload": {
                "summary": f"PD bench {i % 10}",
                "source": "bench",
                "severity": "error",
                "timestamp": (base + timedelta(seconds=i)).isoformat(),
            },
        }
        requests.append(("/v2/enqueue", json.dumps(event).encode(), 1))
    return requests


def shares(requests: list, rounds: int) -> list[list]:
    """``requests`` cut into ``rounds`` consecutive shares, in order."""
    size = -(-len(requests) // rounds)
    return [requests[i : i + size] for i in range(0, len(requests), size)]


class Load:
    """One kind of request (``requests``: path, body and the rows or alerts
    it stores), and the time, stored rows and latencies of all its rounds."""

    def __init__(self, name: str, unit: str, requests: list[tuple[str, bytes, int]]):
        self.name, self.unit = name, unit
        self.rounds = shares(requests, ROUNDS)
        self.elapsed, self.stored, self.latencies, self.failures = 0.0, 0, [], []

    def run(self, port: int, round_: int) -> None:
        if round_ < len(self.rounds):
            share = self.rounds[round_]
            elapsed, latencies, failures = post_many(port, [(p, b) for p, b, _ in share])
            self.elapsed += elapsed
            self.stored += sum(n for _, _, n in share)
            self.latencies += latencies
            self.failures += failures

    @property
    def rate(self) -> float:
        return self.stored / self.elapsed

    def report(self) -> None:
        p50, p99 = pct(self.latencies, 50), pct(self.latencies, 99)
        print(
            f"{self.name:<28} {self.rate:9.0f} {self.unit}/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms",
            flush=True,
        )


def main() -> int:
    db_url = scratch_database("treebeard_bench", "bench/ingest.py")
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        STATIC_MANIFEST="false",
        # gunicorn.conf.py logs every request; 10,000 access lines would bury the result.
        ACCESS_LOG="off",
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.db import connection

    from incidents.models import Alert, Incident
    from incidents.services.integrations import integration_create

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, body jsonb)")
    limit = 10_000_000
    am, am_token = integration_create(
        actor=None, name="bench-am", kind="alertmanager", rate_limit_per_minute=limit
    )
    pd, pd_token = integration_create(
        actor=None, name="bench-pd", kind="pagerduty", rate_limit_per_minute=limit
    )
    connection.close()

    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "treebeard_ir.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            WORKERS,
            "--threads",
            THREADS,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        # Warm-up: imports and connections in every worker.
        post_many(port, [("/bench/insert", b'{"warm": true}')] * 50)

        print(
            f"gunicorn {WORKERS} workers x {THREADS} threads, {CLIENTS} client connections, "
            f"PostgreSQL, {os.cpu_count()} CPUs, {ROUNDS} rounds"
        )
        body = json.dumps({"status": "firing", "labels": {"alertname": "x"}}).encode()
        inserts = [("/bench/insert", body, 1)] * BASELINE_REQUESTS
        baseline = Load("baseline: bare insert view", "rows", inserts)
        storm = Load(f"alertmanager ({BATCH}/batch)", "alerts", alertmanager_batches(am_token))
        events = Load("pagerduty /v2/enqueue", "alerts", pagerduty_events(pd_token))
        loads = (baseline, storm, events)
        for round_ in range(ROUNDS):
            for load in loads:
                load.run(port, round_)
        for load in loads:
            load.report()
        ratios = {
            f"alertmanager, batches of {BATCH}": storm.rate / baseline.rate,
            "pagerduty, single events": events.rate / baseline.rate,
        }
        for name, ratio in ratios.items():
            print(f"alerts/s over baseline rows/s, {name:<26} x{ratio:.2f}")
        met = all(ratio >= TARGET for ratio in ratios.values())
        print(f"target x{TARGET:.2f}: {'met' if met else 'NOT met'}")
    finally:
        server.terminate()
        server.wait(timeout=30)

    am_incidents = Incident.objects.filter(alerts__integration=am).distinct().count()
    am_alerts = Alert.objects.filter(integration=am).count()
    pd_incidents = Incident.objects.filter(alerts__integration=pd).distinct().count()
    pd_alerts = Alert.objects.filter(integration=pd).count()
    absorbed = sum(
        Incident.objects.filter(alerts__integration=am)
        .distinct()
        .values_list("alert_count", flat=True)
    )
    print(
        f"storm: {am_incidents} incidents, {am_alerts} alerts recorded, "
        f"{absorbed} absorbed by incidents; pagerduty: {pd_incidents} incidents, "
        f"{pd_alerts} alerts"
    )
    failures = [f for load in loads for f in load.failures]
    ok = (
        am_incidents == FINGERPRINTS
        and am_alerts == STORM_ALERTS
        and absorbed == STORM_ALERTS
        and pd_incidents == 10
        and pd_alerts == PD_EVENTS
        and not failures
    )
    if failures:
        print(f"{len(failures)} requests failed, first: {failures[0]}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
