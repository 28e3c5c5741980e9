"""SLA timers under load: a real Celery worker and beat against PostgreSQL.

Run by `make bench` (or `python bench/timers.py`). It creates a scratch
database and its own Redis on a spare port, then runs two phases:

1. baseline: 1,000 open incidents, each with one deadline falling due within
   the next minute (acknowledge / update / resolve / escalation, mixed);
2. the same 1,000 due rows plus 10,000 other open incidents whose pending
   deadlines (acknowledge, update, resolve, escalation L2/L3) are far ahead.

In each phase a worker (2 processes) and a beat (sweep every second) run for
~75 s. It prints how late each row fired (``fired_at - due_at``: p50, p99,
max), the sweep's cost (an empty sweep, timed here and in the worker, and
the extra cost per due row from the worker's task log), and the ratio of
phase 2 to the baseline: the sweep's cost must follow the due rows, not the
open incidents (ratio ≈ 1). PASS when every row fired with p99 ≤ 3 s.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402

DUE_ROWS = int(os.environ.get("BENCH_DUE_ROWS", 1_000))
OPEN_INCIDENTS = int(os.environ.get("BENCH_OPEN_INCIDENTS", 10_000))
WINDOW_SECONDS = 60
RUN_SECONDS = int(os.environ.get("BENCH_RUN_SECONDS", 75))
LEAD_SECONDS = 5  # the first row is due this long after the worker is ready
P99_LIMIT = 3.0
DB_NAME = "treebeard_bench_timers"

SWEEP_LINE = re.compile(
    r"Task incidents\.sweep_deadlines\[[^\]]+\] succeeded in ([0-9.e-]+)s: (\d+)"
)


def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# The guide's targets in seconds (an update reminder that fires plans the
# next one a cadence later: well after the run).
TARGETS = {
    "acknowledge": {"P0": 300, "P1": 900},
    "update": {"P0": 900, "P1": 1800},
    "resolve": {"P0": 3600, "P1": 14400},
    "escalation": {"P0": 900, "P1": 900},
}


# --- rows ---------------------------------------------------------------------------


def make_incidents(count: int, *, prefix: str, now, due_for):
    """Bulk-create ``count`` open incidents as a declaration leaves them:
    the incident, its ``declared`` event, both escalation policies copied and
    its deadlines (``due_for(i)`` → list of (kind, level, due_at)).

    Returns the ids of the deadline rows created."""
    from incidents.models import (
        Deadline,
        EscalationLevel,
        EventKind,
        Incident,
        IncidentEscalationStep,
        TimelineEvent,
    )

    levels = list(EscalationLevel.objects.select_related("policy"))
    ids: list[int] = []
    for start in range(0, count, 1_000):
        chunk = range(start, min(start + 1_000, count))
        incidents = Incident.objects.bulk_create([
            Incident(ref=f"{prefix}-{i:06d}", title=f"Bench incident {i}",
                     severity=("P0", "P1")[i % 2], detected_at=now, declared_at=now)
            for i in chunk
        ])  # fmt: skip
        TimelineEvent.objects.bulk_create([
            TimelineEvent(incident=inc, kind=EventKind.DECLARED, at=now,
                          message=f"Declared {inc.severity}: {inc.title}")
            for inc in incidents
        ])  # fmt: skip
        IncidentEscalationStep.objects.bulk_create([
            IncidentEscalationStep(
                incident=inc, path=lv.policy.path, level=lv.level, name=lv.name,
                starts_after_minutes=lv.starts_after_minutes, critical_only=lv.critical_only,
                schedule_id=lv.schedule_id, reached_at=now if lv.level == 1 else None,
            )
            for inc in incidents for lv in levels
        ])  # fmt: skip
        rows = [
            Deadline(incident=inc, kind=kind, severity=inc.severity, level=level,
                     path="technical" if kind == "escalation" else "",
                     target_seconds=TARGETS[kind][inc.severity],
                     starts_at=due - timedelta(seconds=TARGETS[kind][inc.severity]),
                     due_at=due, created_at=now)
            for i, inc in zip(chunk, incidents, strict=True)
            for kind, level, due in due_for(i)
        ]  # fmt: skip
        ids += [d.pk for d in Deadline.objects.bulk_create(rows)]
    return ids


def background(now):
    """Pending deadlines of an open incident, all far in the future."""
    far = now + timedelta(days=30)
    return lambda i: [
        ("acknowledge", None, far),
        ("update", None, far),
        ("resolve", None, far + timedelta(hours=1)),
        ("escalation", 2, far + timedelta(minutes=15)),
        ("escalation", 3, far + timedelta(minutes=30)),
    ]


def due_soon(first_due):
    """One row per incident, due spread evenly over the window, kinds mixed."""
    kinds = [("acknowledge", None), ("update", None), ("resolve", None), ("escalation", 2)]
    step = WINDOW_SECONDS / DUE_ROWS
    return lambda i: [(*kinds[i % 4], first_due + timedelta(seconds=i * step))]


# --- one phase ----------------------------------------------------------------------


def empty_sweep_ms(repeat: int = 30) -> float:
    """Median wall time of a sweep that finds nothing due, in this process."""
    from incidents.engine import sla

    for _ in range(5):  # warm up: connection, statement and plan caches
        sla.sweep()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sla.sweep()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def sweep_costs(log_text: str) -> tuple[float, float, int]:
    """From the worker's log: median empty sweep (ms), extra cost per fired
    row (ms) and the number of sweeps that fired something."""
    runs = [(float(s) * 1000, int(n)) for s, n in SWEEP_LINE.findall(log_text)]
    empty = [ms for ms, n in runs if n == 0]
    busy = [(ms, n) for ms, n in runs if n > 0]
    base = statistics.median(empty) if empty else 0.0
    fired = sum(n for _, n in busy)
    per_row = (sum(ms for ms, _ in busy) - base * len(busy)) / fired if fired else 0.0
    return base, per_row, len(busy)


def run_phase(name: str, open_incidents: int, env: dict, log_dir: Path) -> dict:
    """1. Empty the incident tables; 2. bulk-insert the open incidents;
    3. time an empty sweep; 4. start worker + beat; 5. insert the due rows,
    the first due LEAD_SECONDS later; 6. let it run; 7. read the lateness."""
    from django.db import connection

    from incidents import clock
    from incidents.models import Deadline, Incident
    from tests.worker_support import CeleryProcess

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Incident._meta.db_table} CASCADE")
    now = clock.now()
    started = time.perf_counter()
    make_incidents(open_incidents, prefix=f"OPEN{name[:1]}", now=now, due_for=background(now))
    if open_incidents:
        print(
            f"  inserted {open_incidents:,} open incidents with "
            f"{Deadline.objects.count():,} pending deadlines in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    local_empty = empty_sweep_ms()

    worker = CeleryProcess("worker", env=env, log_dir=log_dir)
    beat = CeleryProcess("beat", env=env, log_dir=log_dir)
    try:
        worker.start(wait=False)
        beat.start(wait=False)
        worker.wait_ready(60)
        beat.wait_ready(60)
        first_due = clock.now() + timedelta(seconds=LEAD_SECONDS)
        due_ids = make_incidents(
            DUE_ROWS, prefix=f"DUE{name[:1]}", now=clock.now(), due_for=due_soon(first_due)
        )
        # Run until every row fired (a little after the window) or RUN_SECONDS.
        deadline = time.monotonic() + RUN_SECONDS
        pending = Deadline.objects.filter(pk__in=due_ids, fired_at__isnull=True)
        while time.monotonic() < deadline and pending.exists():
            time.sleep(1)
    finally:
        worker.kill()
        beat.kill()

    rows = list(Deadline.objects.filter(pk__in=due_ids).values_list("due_at", "fired_at"))
    late = sorted((f - d).total_seconds() for d, f in rows if f is not None)
    worker_empty, per_row, busy_sweeps = sweep_costs(worker.log_text())
    result = {
        "fired": len(late),
        "p50": pct(late, 50) if late else float("nan"),
        "p99": pct(late, 99) if late else float("nan"),
        "max": late[-1] if late else float("nan"),
        "local_empty": local_empty,
        "worker_empty": worker_empty,
        "per_row": per_row,
        "busy_sweeps": busy_sweeps,
    }
    print(
        f"{name:<28} fired {result['fired']:>5}/{DUE_ROWS}  lateness p50 {result['p50']:5.2f} s"
        f"  p99 {result['p99']:5.2f} s  max {result['max']:5.2f} s\n"
        f"{'':<28} empty sweep {local_empty:6.2f} ms (here), {worker_empty:6.2f} ms (worker);"
        f"  per due row {per_row:6.2f} ms over {busy_sweeps} sweeps",
        flush=True,
    )
    return result


def main() -> int:
    from tests.worker_support import RedisProcess, engine_env

    db_url = scratch_database(DB_NAME, "bench/timers.py")
    with RedisProcess() as redis:
        os.environ.update(
            DATABASE_URL=db_url,
            REDIS_URL=redis.url(),
            DJANGO_SETTINGS_MODULE="treebeard_ir.settings",
            STATIC_MANIFEST="false",
            LOG_LEVEL="WARNING",
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
        import django

        django.setup()
        env = engine_env(
            redis.port, recorder=None, smtp=None, DATABASE_URL=db_url, NOTIFY_RELAY_SECONDS="5"
        )
        log_dir = Path(tempfile.mkdtemp(prefix="bench-timers-"))
        print(
            f"worker: prefork x2, beat: sweep every 1 s, PostgreSQL, {os.cpu_count()} CPUs; "
            f"{DUE_ROWS:,} deadlines due over {WINDOW_SECONDS} s",
            flush=True,
        )
        base = run_phase("baseline: 0 other open", 0, env, log_dir)
        load = run_phase(f"{OPEN_INCIDENTS:,} other open incidents", OPEN_INCIDENTS, env, log_dir)

    def ratio(key: str) -> str:
        return f"x{load[key] / base[key]:.2f}" if base[key] else "n/a"

    print(
        f"ratio to baseline: empty sweep {ratio('local_empty')} (here), "
        f"{ratio('worker_empty')} (worker); per due row {ratio('per_row')}; "
        f"p99 lateness {ratio('p99')}"
    )
    ok = all(r["fired"] == DUE_ROWS and r["p99"] <= P99_LIMIT for r in (base, load))
    print("PASS" if ok else f"FAIL (every row must fire with p99 <= {P99_LIMIT} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
