"""How the services write a row people edit, the same way every time: the
whole row is checked as it would be stored, an update saves only the given
fields that differ, and one audit row says who changed what (``audit``), in
the caller's transaction.

Every function takes the row's ``audited`` fields, which the log keeps. Two
optional arguments cover the rows whose log differs:

- ``shown``: the row as the log shows it, when that is not its ``audited``
  fields as they are (a channel's URL or a routing key is a credential: the
  log keeps a mask of it);
- ``record``: who writes the log (``audit.record``); contact methods log
  only managers' changes to other people's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

from .. import audit

Row = TypeVar("Row", bound=models.Model)
Shown = Callable[[models.Model], dict] | None

# An update's "not given": it changes only the arguments passed.
UNSET: Any = object()


def given(**values) -> dict:
    """The arguments an update was given (those that are not ``UNSET``)."""
    return {field: value for field, value in values.items() if value is not UNSET}


def _shown(row: models.Model, audited: Iterable[str], shown: Shown) -> dict:
    return shown(row) if shown is not None else audit.snapshot(row, audited)


def create_row(
    *,
    actor,
    action: str,
    model: type[Row],
    state: Mapping[str, Any],
    audited: Iterable[str],
    extra: Mapping[str, Any] | None = None,
    shown: Shown = None,
    record: Callable[..., Any] = audit.record,
) -> Row:
    """Store a new row of ``model`` from the checked ``state`` and log it:
    its ``audited`` fields and ``extra`` (what is not a field of the row)."""
    row = model.objects.create(**state)
    after = {**_shown(row, audited, shown), **(extra or {})}
    record(actor=actor, action=action, obj=row, after=after)
    return row


def save_changes(
    *,
    actor,
    action: str,
    row: models.Model,
    values: Mapping[str, Any],
    audited: Iterable[str] = (),
    also: Iterable[str] = (),
    shown: Shown = None,
    record: Callable[..., Any] = audit.record,
) -> list[str]:
    """Set the checked ``values`` that differ on ``row``; the fields saved
    (none, and no audit row, when nothing differs).

    1. set each field whose value differs;
    2. save only those, and ``also`` (an ``auto_now`` field);
    3. write one audit row of what the row was and is.
    """
    before = _shown(row, audited, shown)
    changed = [field for field, value in values.items() if value != getattr(row, field)]
    for field in changed:
        setattr(row, field, values[field])
    if changed:
        row.save(update_fields=[*changed, *also])
        after = _shown(row, audited, shown)
        record(actor=actor, action=action, obj=row, before=before, after=after)
    return changed


def update_row(
    *,
    actor,
    action: str,
    row: models.Model,
    audited: Iterable[str],
    changes: Mapping[str, Any],
    check: Callable[[dict], dict],
    also: Iterable[str] = (),
    shown: Shown = None,
    record: Callable[..., Any] = audit.record,
) -> list[str]:
    """Change ``row``; the fields saved (none, and no audit row, when nothing differs).

    1. ``check`` the row as it would be (its ``audited`` values with
       ``changes``): it returns the values to store or raises ``DomainError``;
    2. save the changed fields whose checked value differs (``save_changes``).
    """
    audited = tuple(audited)
    state = check({**{field: getattr(row, field) for field in audited}, **changes})
    return save_changes(
        actor=actor,
        action=action,
        row=row,
        values={field: state[field] for field in changes},
        audited=audited,
        also=also,
        shown=shown,
        record=record,
    )


def delete_row(
    *,
    actor,
    action: str,
    row: models.Model,
    audited: Iterable[str],
    extra: Mapping[str, Any] | None = None,
    shown: Shown = None,
    record: Callable[..., Any] = audit.record,
) -> None:
    """Delete ``row`` and log what it was (``audited`` fields and ``extra``)."""
    pk = row.pk
    before = {**_shown(row, audited, shown), **(extra or {})}
    row.delete()
    record(actor=actor, action=action, obj=row, before=before, object_id=pk)
