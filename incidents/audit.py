"""The audit log's writer: services call ``record`` inside their transaction.

Which entry point a change came through is known to the request (or the
worker), not to the service, so it travels in a context variable:
``EntryPointMiddleware`` sets it from the URL (``/api/`` → api, ``/admin/`` →
admin, anything else → dashboard), the Celery worker marks its tasks
(``via`` in ``incidents.tasks``), and anything else (``manage.py``, a shell)
is the command line.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.db import models

from . import clock
from .models import AuditEntry, EntryPoint
from .people import person_of

_entry_point: contextvars.ContextVar[str] = contextvars.ContextVar(
    "treebeard_entry_point", default=EntryPoint.COMMAND
)


def entry_point() -> str:
    return _entry_point.get()


@contextlib.contextmanager
def via(point: str) -> Iterator[None]:
    """Changes made inside come through ``point`` (an ``EntryPoint``)."""
    token = _entry_point.set(EntryPoint(point))
    try:
        yield
    finally:
        _entry_point.reset(token)


def entry_point_of(path: str) -> str:
    if path.startswith("/api/"):
        return EntryPoint.API
    if path.startswith("/admin/"):
        return EntryPoint.ADMIN
    return EntryPoint.DASHBOARD


class EntryPointMiddleware:
    """Marks every change a request makes with the entry point it came through."""

    def __init__(self, get_response: Callable):
        self.get_response = get_response

    def __call__(self, request):
        with via(entry_point_of(request.path_info)):
            return self.get_response(request)


def _json(value: Any) -> Any:
    """A value as the log stores it: JSON types, models by id and name."""
    if isinstance(value, models.Model):
        return {"id": value.pk, "name": str(value)}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_json(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, models.QuerySet):
        return [_json(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """``{field: value}`` of ``obj`` for the log. Secrets are masked by the
    caller before they get here (``services.edits.Rows(shown=…)``): the log
    is not a key store."""
    state = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, models.Manager):
            value = list(value.all())
        state[name] = _json(value)
    return state


def changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[dict | None, dict | None]:
    """Only what differs between two snapshots (both None when nothing did)."""
    if before is None or after is None:
        return (dict(before) if before else None), (dict(after) if after else None)
    keys = [k for k in after if before.get(k) != after[k]]
    if not keys:
        return None, None
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    *,
    actor,
    action: str,
    obj: models.Model,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
) -> AuditEntry | None:
    """Write one entry: ``actor`` made ``action`` (the service's name) on
    ``obj``. Call it inside the service's transaction, after the write, so
    the entry and the change commit or roll back together. For a deletion
    pass ``object_id`` (the row's id is gone by then) and only ``before``;
    ``object_repr`` names the object when ``str(obj)`` would show a secret.
    An update that changed nothing writes nothing and returns None."""
    if before is not None and after is not None:
        before, after = changes(before, after)
        if before is None and after is None:
            return None
    person = person_of(actor)
    return AuditEntry.objects.create(
        at=clock.now(),
        actor=person,
        actor_name=person.get_username() if person else "",
        entry_point=entry_point(),
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(object_id if object_id is not None else obj.pk),
        object_repr=(str(obj) if object_repr is None else object_repr)[:200],
        before=_json(dict(before)) if before else None,
        after=_json(dict(after)) if after else None,
    )
