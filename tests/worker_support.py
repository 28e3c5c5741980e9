"""Real background processes for engine tests: Redis, Celery worker and beat.

Nothing here is mocked: ``RedisProcess`` runs ``redis-server`` on a spare
loopback port, ``CeleryProcess`` runs ``celery -A treebeard_ir worker|beat``
in its own process group against that Redis and the *test* database, and
``use_broker`` points this test process's Celery app at the same Redis so
that what the services publish on commit reaches the worker.

Each process writes its output to a log file; ``dump_logs`` prints the tail
of every log at teardown, which pytest shows only when the test failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from tests.fakes import HttpRecorder

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
T = TypeVar("T")


def spare_port() -> int:
    """A TCP port nobody listens on right now (bound and released by the OS)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(
    predicate: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.2,
    message: str | Callable[[], str] = "condition",
) -> T:
    """Poll ``predicate`` until it returns something truthy; return that.

    Engine outcomes arrive when a worker gets to them, so tests wait for a
    state with a deadline instead of sleeping a fixed time and hoping.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"not true within {timeout} s: {text} (last value {value!r})")
        time.sleep(interval)


def _tail(path: Path, lines: int = 150) -> str:
    try:
        with path.open(errors="replace") as f:
            return "".join(deque(f, maxlen=lines))
    except FileNotFoundError:
        return "(no log)"


class RedisProcess:
    """``redis-server`` on 127.0.0.1:``port`` without persistence.

    ``stop()`` and ``start()`` again on the same port simulate an outage;
    what was queued is lost with the process, as in a real crash without AOF.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or spare_port()
        self._dir = Path(tempfile.mkdtemp(prefix="tbir-redis-"))
        self.log = self._dir / "redis.log"
        self._proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 10.0) -> RedisProcess:
        """1. Spawn redis-server (no RDB, no AOF) in its own session.
        2. Wait until it answers PING."""
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self._dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        eventually(
            self.ping,
            timeout=timeout,
            interval=0.05,
            message=lambda: f"redis on {self.port} answers PING\n{_tail(self.log)}",
        )
        return self

    def stop(self) -> None:
        """Kill it at once (SIGKILL): an outage, not a clean shutdown."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None

    def __enter__(self) -> RedisProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


class CeleryProcess:
    """``celery -A treebeard_ir worker`` (prefork, 2 children) or ``beat``,
    in its own process group so a SIGKILL takes the children with it."""

    READY = {"worker": "ready.", "beat": "beat: Starting..."}

    def __init__(
        self,
        role: str = "worker",
        *,
        env: dict[str, str],
        log_dir: Path | None = None,
        concurrency: int = 2,
    ) -> None:
        if role not in self.READY:
            raise ValueError(f"role must be worker or beat, not {role!r}")
        self.role = role
        self.env = env
        self.name = f"proof-{uuid.uuid4().hex[:8]}"
        self._dir = Path(log_dir or tempfile.mkdtemp(prefix="tbir-celery-"))
        self.log = self._dir / f"{role}-{self.name}.log"
        self.concurrency = concurrency
        self._proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        celery = str(BIN / "celery")
        if self.role == "worker":
            # Mingle and gossip only slow start-up; these tests use no remote control.
            return [
                celery,
                "-A",
                "treebeard_ir",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                "-n",
                f"{self.name}@%h",
                "--without-mingle",
                "--without-gossip",
            ]
        return [
            celery,
            "-A",
            "treebeard_ir",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(self._dir / f"beat-schedule-{self.name}"),
        ]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, *, wait: bool = True, timeout: float = 30.0) -> CeleryProcess:
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            if self._proc is not None and self._proc.poll() is not None:
                raise AssertionError(
                    f"celery {self.role} exited with {self._proc.returncode}\n{self.tail()}"
                )
            return self.READY[self.role] in self.log.read_text(errors="replace")

        eventually(
            ready,
            timeout=timeout,
            interval=0.1,
            message=lambda: f"celery {self.role} ready\n{self.tail()}",
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 150) -> str:
        return _tail(self.log, lines)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (main process and pool children)."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)
        if sig == signal.SIGKILL:
            self._proc.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """Warm shutdown (SIGTERM: finish the task at hand), SIGKILL if it hangs."""
        if not self.running:
            return
        self.kill(signal.SIGTERM)
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)

    def __enter__(self) -> CeleryProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        # The test is over: no need to wait for a warm shutdown.
        self.kill(signal.SIGKILL)


def database_url() -> str:
    """URL of the database this test process uses (pytest's ``test_…`` one)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        raise RuntimeError(
            "Worker tests need PostgreSQL: run them with `make test` "
            "(or set DATABASE_URL=postgres://…)."
        )
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def process_env(**overrides: str) -> dict[str, str]:
    """Environment of a process a test starts (a worker, gunicorn) on the
    product's settings and the test database: this one's, without what
    pytest, pytest-django and Celery set here, and with ``overrides``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "PYTEST_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="treebeard_ir.settings",
        DATABASE_URL=database_url(),
        STATIC_MANIFEST="false",
        DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def engine_env(
    redis_port: int, *, recorder: HttpRecorder | None, smtp: Any | None, **overrides: str
) -> dict[str, str]:
    """Environment of a worker or beat running against the test database.

    Timers are short so the engine reacts within a second or two: the sweep
    and the relay run every second, a lease lapses after 3 s.
    """
    env = process_env(
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        NOTIFY_ALLOWED_NETWORKS="127.0.0.1/32",
        SLA_SWEEP_SECONDS="1",
        NOTIFY_RELAY_SECONDS="1",
        NOTIFY_RELAY_GRACE_SECONDS="1",
        NOTIFY_LEASE_SECONDS="3",
        NOTIFY_RETRY_BASE_SECONDS="0.5",
        NOTIFY_READ_TIMEOUT="10",
        LOG_LEVEL="INFO",
    )
    if recorder is not None:
        env["PAGERDUTY_EVENTS_URL"] = recorder.url("/v2/enqueue")
    if smtp is not None:
        env["EMAIL_URL"] = smtp.email_url
    env.update(overrides)
    return env


@contextlib.contextmanager
def use_broker(url: str) -> Iterator[None]:
    """Point this process's (already configured) Celery app at ``url``.

    Setting ``broker_url`` alone is not enough: the app caches its connection
    pool (``app._pool``) and the producer pool (``app.amqp._producer_pool``),
    both made from the URL of their first use. Reset them, as Celery itself
    does after a fork, and again on the way out.
    """
    from treebeard_ir.celery import app

    def reset() -> None:
        if app._pool is not None:
            with contextlib.suppress(Exception):
                app._pool.force_close_all()
        app._pool = None
        with contextlib.suppress(AttributeError, KeyError):
            app.__dict__["amqp"]._producer_pool = None

    before = app.conf.broker_url
    reset()
    app.conf.broker_url = url
    try:
        yield
    finally:
        reset()
        app.conf.broker_url = before


def dump_logs(*processes: CeleryProcess | RedisProcess) -> None:
    """Print each process's log tail; pytest shows it only for a failed test."""
    for proc in processes:
        label = getattr(proc, "role", "redis")
        print(f"\n===== {label} log ({proc.log}) =====\n{_tail(proc.log)}")
