"""The whole engine on loopback for one test: its own Redis, a Celery worker
and beat (tests/worker_support.py), an HTTP recorder that can hold its
answers and an SMTP sink (tests/fakes.py), with this test process
publishing to that Redis."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from tests.fakes import HttpRecorder, Recorded, Response, SmtpSink
from tests.worker_support import (
    CeleryProcess,
    RedisProcess,
    dump_logs,
    engine_env,
    use_broker,
)


class SlowHttpRecorder(HttpRecorder):
    """An ``HttpRecorder`` that can hold its answer: ``delay(path, seconds, …)``
    makes the next requests to ``path`` wait that long (one value per request)
    after being recorded, e.g. to kill a worker while it waits for the answer."""

    def __init__(self) -> None:
        super().__init__()
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._delay_lock = threading.Lock()

    def delay(self, path: str, *seconds: float) -> None:
        with self._delay_lock:
            self._delays[path].extend(seconds)

    def _record(self, request: Recorded) -> Response:
        answer = super()._record(request)
        with self._delay_lock:
            queue = self._delays.get(request.path)
            pause = queue.popleft() if queue else 0.0
        if pause:
            time.sleep(pause)  # only this request's server thread waits
        return answer


class Engine:
    """Everything the engine needs, on loopback: its own Redis, an HTTP
    recorder (Slack, PagerDuty, webhooks), an SMTP sink, ``workers`` Celery
    workers and ``beats`` beats, with this process publishing to that Redis.

    Use inside a ``transactional_db`` test: the worker only sees committed rows.
    """

    def __init__(self, *, workers: int = 1, beats: int = 1, **env_overrides: str) -> None:
        self.redis = RedisProcess()
        self.recorder = SlowHttpRecorder()
        self.smtp = SmtpSink()
        self.log_dir = Path(tempfile.mkdtemp(prefix="tbir-engine-"))
        self._wanted = (workers, beats)
        self._env_overrides = env_overrides
        self.workers: list[CeleryProcess] = []
        self.beats: list[CeleryProcess] = []
        self._stack = contextlib.ExitStack()

    @property
    def env(self) -> dict[str, str]:
        return engine_env(
            self.redis.port, recorder=self.recorder, smtp=self.smtp, **self._env_overrides
        )

    def add(self, role: str, *, wait: bool = True) -> CeleryProcess:
        proc = CeleryProcess(role, env=self.env, log_dir=self.log_dir)
        (self.workers if role == "worker" else self.beats).append(proc)
        self._stack.callback(proc.kill)
        return proc.start(wait=wait)

    def start(self) -> Engine:
        """1. Redis, recorder and SMTP sink. 2. Publish from here to that Redis.
        3. Start workers and beats together, then wait until all are ready."""
        self._stack.enter_context(self.redis)
        self._stack.enter_context(self.recorder)
        self._stack.enter_context(self.smtp)
        self._stack.enter_context(use_broker(self.redis.url()))
        workers, beats = self._wanted
        procs = [self.add("worker", wait=False) for _ in range(workers)]
        procs += [self.add("beat", wait=False) for _ in range(beats)]
        for proc in procs:
            proc.wait_ready()
        return self

    def close(self) -> None:
        self._stack.close()
        dump_logs(*self.workers, *self.beats)
        shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> Engine:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()
