"""The one error a transport raises (after healthchecks' ``TransportError``).

The outbox reads it to decide what happens next: a permanent error stops
retrying and is shown on the channel; any other error is retried with
backoff, no sooner than ``retry_after`` seconds when the receiver said so
(HTTP 429 ``Retry-After``).
"""

from __future__ import annotations


class TransportError(Exception):
    """A delivery that did not succeed.

    ``permanent`` — retrying cannot help (dead webhook, bad routing key,
    refused address); ``retry_after`` — seconds the receiver asked us to wait;
    ``status_code`` — the receiver's HTTP status or SMTP reply code, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.status_code = status_code

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, permanent={self.permanent}, "
            f"retry_after={self.retry_after}, status_code={self.status_code})"
        )


class UnsafeDestination(TransportError):
    """The URL points at an address we refuse to reach (private, loopback,
    link-local, …) and ``NOTIFY_ALLOWED_NETWORKS`` does not name it.
    Always permanent: the same URL will resolve to a refused place again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)
