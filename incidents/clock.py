"""The one source of "now" for incident services.

Services read the time here so the demo seeder can write a realistic past
(``with clock.frozen(t): ...``) without a test library in production code.
Tests move time with time-machine, which this follows.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import datetime

from django.utils import timezone

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "treebeard_clock", default=None
)


def now() -> datetime:
    return _frozen.get() or timezone.now()


@contextlib.contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)
