"""The outside world, faked at the socket (STYLE.md rule 14).

- ``HttpRecorder``: a real HTTP/1.1 server on 127.0.0.1 that records every
  request (Slack, PagerDuty, webhooks) and answers from a script per path.
- ``SmtpSink``: a real SMTP server (aiosmtpd) that keeps each message as a
  parsed ``email.message.EmailMessage``.
- ``BlackHole``: a TCP server that accepts connections and never answers
  (timeouts).

All three are context managers, bind a random free port, are thread-safe and
can be used by worker subprocesses (they are plain servers on loopback).
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Generic, Self, TypeVar

from aiosmtpd.controller import Controller

Response = tuple[int, dict[str, str], bytes | str]


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it (``path`` without the query)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""
    at: float = field(default_factory=time.time)

    def json(self):
        return json.loads(self.body)


T = TypeVar("T")


class _Inbox(Generic[T]):
    """What a fake server received, in order, shared with the server's
    threads; ``lock`` also guards the server's own answers to come."""

    def __init__(self) -> None:
        self.lock = threading.Condition()  # an RLock: add() may run under it
        self._items: list[T] = []

    def add(self, item: T) -> None:
        with self.lock:
            self._items.append(item)
            self.lock.notify_all()

    @property
    def items(self) -> list[T]:
        with self.lock:
            return list(self._items)

    def clear(self) -> None:
        with self.lock:
            self._items.clear()

    def wait_for(self, count: int, timeout: float, what: Callable[[list[T]], str]) -> list[T]:
        """At least ``count`` items (all of them), else AssertionError saying
        ``what`` of those that came."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self._items) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(what(list(self._items)))
                self.lock.wait(left)
            return list(self._items)


class _LoopbackServer(ABC):
    """A server on 127.0.0.1 with a random port, started by ``start()`` or
    by entering a ``with`` block and stopped on leaving it."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class HttpRecorder(_LoopbackServer):
    """A threaded HTTP/1.1 server on 127.0.0.1 with a random port.

    ``with HttpRecorder() as rec: rec.url("/hook")`` → ``http://127.0.0.1:<port>/hook``.
    ``rec.script("/hook", [(500, {}, "rollup_error"), (200, {}, "ok")])``: the
    answers for that path, in order; when they are used up, the default
    answer (200 text/plain ``ok``, see ``set_default``) applies.
    ``rec.requests`` lists what arrived; ``rec.wait_for(n)`` blocks for it.
    """

    DEFAULT: Response = (200, {"Content-Type": "text/plain;charset=utf-8"}, b"ok")

    def __init__(self) -> None:
        self._inbox: _Inbox[Recorded] = _Inbox()
        self._scripts: dict[str, deque[Response]] = defaultdict(deque)
        self._default: Response = self.DEFAULT
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> HttpRecorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                status, headers, payload = recorder._record(
                    Recorded(
                        method=self.command,
                        path=path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        query=query,
                    )
                )
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(status)
                names = {k.lower() for k in headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                if "content-type" not in names:
                    self.send_header("Content-Type", "text/plain;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format, *args):
                pass  # keep pytest output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- configuration -------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "HttpRecorder is not started"
        return self._server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, responses: list[Response]) -> None:
        """Answer the next requests to ``path`` with ``responses``, in order."""
        with self._inbox.lock:
            self._scripts[path].extend(responses)

    def set_default(self, status: int, headers: dict[str, str], body: bytes | str) -> None:
        with self._inbox.lock:
            self._default = (status, headers, body)

    # --- what arrived --------------------------------------------------------

    def _record(self, request: Recorded) -> Response:
        with self._inbox.lock:
            self._inbox.add(request)
            queue = self._scripts.get(request.path)
            return queue.popleft() if queue else self._default

    @property
    def requests(self) -> list[Recorded]:
        return self._inbox.items

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def clear(self) -> None:
        self._inbox.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        """At least ``count`` requests (all of them), else AssertionError."""
        return self._inbox.wait_for(
            count,
            timeout,
            lambda got: (
                f"expected {count} request(s) within {timeout} s, "
                f"got {len(got)}: {[(r.method, r.path) for r in got]}"
            ),
        )


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.sink.refused_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self.sink._receive(envelope)


class _Controller(Controller):
    def _trigger_server(self):
        # Bound to port 0: learn the real port before the readiness probe.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink(_LoopbackServer):
    """An SMTP server (aiosmtpd) on 127.0.0.1 with a random port.

    ``.messages`` are parsed ``EmailMessage`` objects (``policy.default``),
    ``.envelopes`` add the SMTP sender and recipients. ``fail_next("451 4.3.0
    Try later")`` answers the next DATA commands with those replies instead
    of accepting; ``refused_recipients`` get ``550`` at RCPT.
    """

    def __init__(self) -> None:
        self._inbox: _Inbox[Envelope] = _Inbox()
        self._failures: deque[str] = deque()
        self.refused_recipients: set[str] = set()
        self._controller: _Controller | None = None

    def start(self) -> SmtpSink:
        self._controller = _Controller(_Handler(self), hostname="127.0.0.1", port=0)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def port(self) -> int:
        assert self._controller is not None, "SmtpSink is not started"
        return self._controller.port

    @property
    def email_url(self) -> str:
        """For ``EMAIL_URL`` of a worker subprocess (treebeard_ir.env.email_from_url)."""
        return f"smtp://127.0.0.1:{self.port}"

    def fail_next(self, *replies: str) -> None:
        with self._inbox.lock:
            self._failures.extend(replies)

    def _receive(self, envelope) -> str:
        with self._inbox.lock:
            if self._failures:
                return self._failures.popleft()
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self._inbox.add(Envelope(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def envelopes(self) -> list[Envelope]:
        return self._inbox.items

    @property
    def messages(self) -> list[EmailMessage]:
        return [e.message for e in self.envelopes]

    def clear(self) -> None:
        self._inbox.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """At least ``count`` messages (all of them), else AssertionError."""
        arrived = self._inbox.wait_for(
            count,
            timeout,
            lambda got: f"expected {count} message(s) within {timeout} s, got {len(got)}",
        )
        return [e.message for e in arrived]


class BlackHole(_LoopbackServer):
    """Accepts TCP connections on 127.0.0.1 and never answers: a receiver
    that hangs."""

    url = HttpRecorder.url

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._stop = threading.Event()

    def start(self) -> BlackHole:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._held.append(conn)  # keep it open, say nothing

    def stop(self) -> None:
        self._stop.set()
        for conn in self._held:
            conn.close()
        if self._sock is not None:
            self._sock.close()

    @property
    def port(self) -> int:
        assert self._sock is not None
        return self._sock.getsockname()[1]
