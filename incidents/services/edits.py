"""How the services write a row people edit, the same way every time: the
whole row is checked as it would be stored, an update saves only the given
fields that differ, and one audit row says who changed what (``audit``), in
the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

from .. import audit

Row = TypeVar("Row", bound=models.Model)

# An update's "not given": it changes only the arguments passed.
UNSET: Any = object()


def given(**values) -> dict:
    """The arguments an update was given (those that are not ``UNSET``)."""
    return {field: value for field, value in values.items() if value is not UNSET}


def create_row(
    *,
    actor,
    action: str,
    model: type[Row],
    state: Mapping[str, Any],
    audited: Iterable[str],
    extra: Mapping[str, Any] | None = None,
) -> Row:
    """Store a new row of ``model`` from the checked ``state`` and log it:
    its ``audited`` fields and ``extra`` (what is not a field of the row)."""
    row = model.objects.create(**state)
    after = {**audit.snapshot(row, audited), **(extra or {})}
    audit.record(actor=actor, action=action, obj=row, after=after)
    return row


def update_row(
    *,
    actor,
    action: str,
    row: models.Model,
    audited: Iterable[str],
    changes: Mapping[str, Any],
    check: Callable[[dict], dict],
    also: Iterable[str] = (),
) -> list[str]:
    """Change ``row``; the fields saved (none, and no audit row, when nothing differs).

    1. ``check`` the row as it would be (its ``audited`` values with
       ``changes``): it returns the values to store or raises ``DomainError``;
    2. set each changed field whose checked value differs;
    3. save only those, and ``also`` (an ``auto_now`` field);
    4. write one audit row of what they were and are.
    """
    audited = tuple(audited)
    state = check({**{field: getattr(row, field) for field in audited}, **changes})
    before = audit.snapshot(row, audited)
    changed = [field for field in changes if state[field] != getattr(row, field)]
    for field in changed:
        setattr(row, field, state[field])
    if changed:
        row.save(update_fields=[*changed, *also])
        after = audit.snapshot(row, audited)
        audit.record(actor=actor, action=action, obj=row, before=before, after=after)
    return changed


def delete_row(
    *,
    actor,
    action: str,
    row: models.Model,
    audited: Iterable[str],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Delete ``row`` and log what it was (``audited`` fields and ``extra``)."""
    pk = row.pk
    before = {**audit.snapshot(row, audited), **(extra or {})}
    row.delete()
    audit.record(actor=actor, action=action, obj=row, before=before, object_id=pk)
