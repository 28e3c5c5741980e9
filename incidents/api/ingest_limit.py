"""The ingestion rate limit: ``Integration.rate_limit_per_minute`` requests
per integration in a fixed one-minute window, counted in the shared cache
(Redis) so that every worker process counts against the same limit.

Every alert request asks, so asking must not cost a round trip each time:
a process takes its allowance in leases (``lease_size``: a hundredth of the
limit) with one atomic INCRBY, and spends a lease locally. The counter never
lets more than the limit through; at worst the leases a process has not
spent when the minute ends go unused (one hundredth of the limit per
process). A limit under a hundred is counted request by request, exactly.

A cache outage must not block alerts: the limiter then lets everything
through, and says so in the log.
"""

from __future__ import annotations

import logging
import threading

from django.core.cache import cache

from .. import clock

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# A lease is this share of the limit.
LEASES_PER_WINDOW = 100


def lease_size(limit: int) -> int:
    return max(1, limit // LEASES_PER_WINDOW)


def retry_after_if_limited(integration) -> int | None:
    """Seconds until the window ends when ``integration`` is past its limit,
    else None (this request counted)."""
    now = clock.now().timestamp()
    window = int(now // WINDOW_SECONDS)
    key = f"ingest-rate:{integration.pk}:{window}"
    limit = integration.rate_limit_per_minute
    if _leases.spend(key, window):
        return None
    size = lease_size(limit)
    try:
        taken = _count(key, size)
    except Exception:  # the limiter is best-effort; the alert is not
        log.warning("ingest rate limiter unavailable", exc_info=True)
        return None
    granted = min(size, limit - (taken - size))
    if granted < 1:
        return max(1, WINDOW_SECONDS - int(now % WINDOW_SECONDS))
    _leases.keep(key, window, granted - 1)
    return None


class _Leases:
    """What this process may still let through in the current window."""

    def __init__(self):
        self._lock = threading.Lock()
        self._window = -1
        self._left: dict[str, int] = {}

    def spend(self, key: str, window: int) -> bool:
        with self._lock:
            if window != self._window or self._left.get(key, 0) < 1:
                return False
            self._left[key] -= 1
            return True

    def keep(self, key: str, window: int, left: int) -> None:
        with self._lock:
            if window != self._window:
                self._window, self._left = window, {}
            self._left[key] = self._left.get(key, 0) + left


_leases = _Leases()


def _count(key: str, size: int) -> int:
    """Add ``size`` to the counter ``key`` (two windows' life) and return it.
    Once a lease, so the cache's own calls (``add``, then ``incr``) cost
    nothing worth saving."""
    cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
    return cache.incr(key, size)
