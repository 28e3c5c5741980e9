"""The public status page under load, against gunicorn on PostgreSQL + Redis.

Run by `make bench` (or `python bench/statuspage.py`). It creates a scratch
database with a realistic page (3 groups of 5 components, an open incident
with 3 updates, a resolved one, an upcoming maintenance), then starts two
gunicorns with the same workers, threads and access logging (to a file):

1. baseline: a minimal Django project (bench/minimal.py: no middleware, no
   database) whose one view returns a constant string;
2. the product, asked for ``/`` and ``/api/v2/summary.json`` on the status host.

The loads run in turns (``BENCH_ROUNDS``) from ``BENCH_CLIENTS`` keep-alive
connections spread over two client processes (raw sockets, so the client
costs little next to the servers). It prints requests/s and p50/p99 of each,
then each product path's ratios to the baseline: requests/s over the
baseline's, and the baseline's p99 over the path's (both 1.0 = as fast as a
constant string; the target is at least x0.70). Exit 1 if any request failed.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 12_000))  # per load, over all rounds
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 8))
PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", 2))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
THREADS = os.environ.get("BENCH_THREADS", "4")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
STATUS_HOST = "status.treebeard.com"
TARGET = 0.7


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_response(sock: socket.socket, buffer: bytearray) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); return its status."""

    def fill(size: int = 0, marker: bytes = b"") -> None:
        while len(buffer) < size or (marker and marker not in buffer):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer.extend(chunk)

    fill(marker=b"\r\n\r\n")
    end = buffer.index(b"\r\n\r\n")
    head = bytes(buffer[:end]).lower()
    del buffer[: end + 4]
    status = int(head[9:12])
    if b"transfer-encoding: chunked" in head:
        while True:
            fill(marker=b"\r\n")
            line_end = buffer.index(b"\r\n")
            size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
            fill(line_end + 2 + size + 2)
            del buffer[: line_end + 2 + size + 2]
            if size == 0:
                return status
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip() == b"content-length":
            length = int(value)
    fill(length)
    del buffer[:length]
    return status


def client_process(port: int, request: bytes, count: int, threads: int, out) -> None:
    """``threads`` keep-alive connections sending ``count`` requests in all."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    left = [count]

    def run():
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        mine, bad = [], []
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
            start = time.perf_counter()
            try:
                sock.sendall(request)
                status = read_response(sock, buffer)
            except OSError:
                sock.close()
                sock = socket.create_connection(("127.0.0.1", port))
                buffer.clear()
                status = 0
            mine.append(time.perf_counter() - start)
            if status != 200:
                bad.append(status)
        sock.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    out.put((latencies, failures))


def load(port: int, path: str, host: str, count: int) -> tuple[float, list[float], list[int]]:
    # As browsers and CDNs ask (the baseline is asked the same way).
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench\r\n"
        "Accept-Encoding: gzip, deflate, br\r\n\r\n"
    ).encode()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per = max(1, CLIENTS // PROCESSES)
    procs = [
        multiprocessing.Process(
            target=client_process, args=(port, request, count // PROCESSES, per, queue)
        )
        for _ in range(PROCESSES)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    latencies = [x for lat, _ in results for x in lat]
    failures = [x for _, bad in results for x in bad]
    return elapsed, latencies, failures


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


class Load:
    def __init__(self, name: str, port: int, path: str, host: str) -> None:
        self.name, self.port, self.path, self.host = name, port, path, host
        self.elapsed, self.latencies, self.failures = 0.0, [], []

    def run(self, count: int) -> None:
        elapsed, latencies, failures = load(self.port, self.path, self.host, count)
        self.elapsed += elapsed
        self.latencies += latencies
        self.failures += failures

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    @property
    def p99(self) -> float:
        return pct(self.latencies, 99)

    def report(self) -> None:
        print(
            f"{self.name:<36} {self.rate:8.0f} req/s  p50 {pct(self.latencies, 50):6.2f} ms"
            f"  p99 {self.p99:6.2f} ms",
            flush=True,
        )


def seed() -> None:
    """A page as a real one looks during an incident."""
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection

    from incidents import clock, services
    from statuspage.models import Maintenance, PublicUpdate
    from statuspage.services.components import component_create, group_create
    from statuspage.services.incidents import incident_publish, public_update_post
    from statuspage.services.page import page_changed

    root = get_user_model().objects.create_superuser("bench", "bench@example.com", "x" * 20)
    components = []
    for g in range(3):
        group = group_create(actor=root, name=f"Group {g}", description="Servers and services")
        for c in range(5):
            components.append(
                component_create(
                    actor=root, name=f"Component {g}.{c}", group=group, description="A service"
                )
            )
    for n, status in enumerate(["monitoring", "resolved"]):
        incident = services.incident_declare(
            actor=root, title=f"Bench incident {n}", severity="P2", summary="x", services=["api"]
        )
        public = incident_publish(
            actor=root,
            incident=incident,
            title=f"Elevated error rates {n}",
            impact="minor",
            message="We are investigating elevated error rates on the API.",
            components=[{"id": components[n].code, "status": "partial_outage"}],
        )
        public_update_post(
            actor=root, public_incident=public, status="identified", body="Cause found."
        )
        public_update_post(actor=root, public_incident=public, status=status, body="Fix rolled.")
    now = clock.now()
    maintenance = Maintenance.objects.create(
        name="Database upgrade",
        scheduled_for=now + timedelta(days=2),
        scheduled_until=now + timedelta(days=2, hours=2),
        created_at=now,
        updated_at=now,
    )
    maintenance.components.add(*components[:3])
    PublicUpdate.objects.create(
        maintenance=maintenance,
        status="scheduled",
        body="We will upgrade the database.",
        created_at=now,
        updated_at=now,
        display_at=now,
    )
    page_changed()
    connection.close()


def gunicorn(app: str, env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            app,
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
        env={**env, "ACCESS_LOG": str(log)},
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"gunicorn {app} did not start")


def main() -> int:
    db_url = scratch_database("treebeard_bench_statuspage", "bench/statuspage.py")
    logs = Path(tempfile.mkdtemp(prefix="tbir-bench-"))
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="treebeard_ir.settings",
        DEBUG="false",
        STATIC_MANIFEST="false",
        LOG_LEVEL="warning",
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seed()

    minimal_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.minimal"}
    servers = []
    try:
        base, base_port = gunicorn(
            "django.core.wsgi:get_wsgi_application()", minimal_env, logs / "minimal.log"
        )
        servers.append(base)
        product, port = gunicorn("treebeard_ir.wsgi:application", env, logs / "product.log")
        servers.append(product)
        loads = [
            Load("baseline: constant string", base_port, "/", "127.0.0.1"),
            Load("status page /", port, "/", STATUS_HOST),
            Load("status page /api/v2/summary.json", port, "/api/v2/summary.json", STATUS_HOST),
        ]
        for item in loads:  # warm-up: imports, connections, the first build
            load(item.port, item.path, item.host, 400)
        print(
            f"gunicorn {WORKERS} workers x {THREADS} threads, access log to a file, "
            f"{CLIENTS} keep-alive connections from {PROCESSES} client processes, "
            f"{os.cpu_count()} CPUs, {ROUNDS} rounds of {REQUESTS // ROUNDS} requests per load"
        )
        for _ in range(ROUNDS):
            for item in loads:
                item.run(REQUESTS // ROUNDS)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    for item in loads:
        item.report()
    baseline = loads[0]
    met = True
    for item in loads[1:]:
        rate, p99 = item.rate / baseline.rate, baseline.p99 / item.p99
        met = met and rate >= TARGET and p99 >= TARGET
        print(f"{item.path:<28} requests/s x{rate:.2f}   p99 x{p99:.2f} (baseline's p99 / this)")
    print(f"target x{TARGET:.2f}: {'met' if met else 'NOT met'}")
    failures = [f for item in loads for f in item.failures]
    if failures:
        print(f"{len(failures)} requests failed, statuses: {sorted(set(failures))}")
    print("PASS" if not failures else "FAIL")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
