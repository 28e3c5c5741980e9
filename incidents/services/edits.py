"""How the services write a row people edit, the same way every time: the
whole row is checked as it would be stored, an update saves only the given
fields that differ, and one audit row says who changed what (``audit``), in
the caller's transaction.

Each model people edit is described once, as ``Rows``: which of its fields
the log keeps, and, for the few whose log differs, how the log shows a row
and who writes it. Its services then say only what they do::

    SCHEDULES = Rows(Schedule, SCHEDULE_FIELDS)
    SCHEDULES.create(actor=actor, action="schedule_create", state=state)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import models

from .. import audit

Row = TypeVar("Row", bound=models.Model)

# An update's "not given": it changes only the arguments passed.
UNSET: Any = object()


def given(**values) -> dict:
    """The arguments an update was given (those that are not ``UNSET``)."""
    return {field: value for field, value in values.items() if value is not UNSET}


@dataclass(frozen=True)
class Rows(Generic[Row]):
    """The rows of ``model`` as people edit them and the audit log keeps them.

    - ``audited``: the fields the log keeps, which an update's ``check``
      sees whole;
    - ``shown``: the row as the log shows it, when that is not its
      ``audited`` fields as they are (a channel's URL or a routing key is a
      credential: the log keeps a mask of it);
    - ``record``: who writes the log (``audit.record``; contact methods are
      logged only when someone changes another person's).
    """

    model: type[Row]
    audited: tuple[str, ...]
    shown: Callable[[models.Model], dict] | None = None
    record: Callable[..., Any] = audit.record

    def _log_of(self, row: models.Model) -> dict:
        return self.shown(row) if self.shown is not None else audit.snapshot(row, self.audited)

    def create(
        self, *, actor, action: str, state: Mapping[str, Any], extra: Mapping | None = None
    ) -> Row:
        """Store a new row from the checked ``state`` and log it, with
        ``extra`` (what is not a field of the row)."""
        row = self.model.objects.create(**state)
        self.record(
            actor=actor, action=action, obj=row, after={**self._log_of(row), **(extra or {})}
        )
        return row

    def save(
        self,
        *,
        actor,
        action: str,
        row: models.Model,
        values: Mapping[str, Any],
        also: tuple[str, ...] = (),
    ) -> list[str]:
        """Set the checked ``values`` that differ on ``row``; the fields saved
        (none, and no audit row, when nothing differs).

        1. set each field whose value differs;
        2. save only those, and ``also`` (an ``auto_now`` field);
        3. write one audit row of what the row was and is.
        """
        before = self._log_of(row)
        changed = [field for field, value in values.items() if value != getattr(row, field)]
        for field in changed:
            setattr(row, field, values[field])
        if changed:
            row.save(update_fields=[*changed, *also])
            self.record(actor=actor, action=action, obj=row, before=before, after=self._log_of(row))
        return changed

    def update(
        self,
        *,
        actor,
        action: str,
        row: models.Model,
        changes: Mapping[str, Any],
        check: Callable[[dict], dict],
        also: tuple[str, ...] = (),
    ) -> list[str]:
        """Change ``row``; the fields saved (none, and no audit row, when nothing differs).

        1. ``check`` the row as it would be (its ``audited`` values with
           ``changes``): it returns the values to store or raises ``DomainError``;
        2. save the changed fields whose checked value differs (``save``).
        """
        state = check({**{field: getattr(row, field) for field in self.audited}, **changes})
        values = {field: state[field] for field in changes}
        return self.save(actor=actor, action=action, row=row, values=values, also=also)

    def delete(
        self, *, actor, action: str, row: models.Model, extra: Mapping | None = None
    ) -> None:
        """Delete ``row`` and log what it was (and ``extra``)."""
        before = {**self._log_of(row), **(extra or {})}
        # Logged first: a person deleting their own account is the entry's
        # actor, which the deletion then sets to null (``actor_name`` stays).
        self.record(actor=actor, action=action, obj=row, before=before)
        row.delete()
