"""The three statements every alert batch runs, in SQL (``services.alerts``
calls them; nothing else should).

Ingestion runs at the speed of the database: in a storm, each request is a
token lookup, these three statements and a commit. Built by the ORM, each
cost more in Python than in PostgreSQL (the query compiler, not the query),
so they are written here once, from the models' own table and column names,
with every value a parameter. They stay portable to SQLite (the demo's
embedded database), which takes no row locks but serialises writers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import connection

from ..models import Alert, AlertGroupKey, Incident, Status

# Rows per INSERT: a batch of any usual size is one statement; a 1 MiB body
# of tiny alerts is a few.
INSERT_CHUNK = 1000


class IncidentMoved(Exception):
    """An incident that alerts were about to join was resolved meanwhile."""


@dataclass
class Group:
    """A fingerprint's group row (``AlertGroupKey``), locked by this
    transaction, and the incident it points to, as read."""

    pk: int
    fingerprint: str
    incident_id: int | None
    status: str | None  # the incident's; None while it is unread
    ref: str | None

    @property
    def open_incident_id(self) -> int | None:
        if self.incident_id is None or self.status in (None, Status.RESOLVED):
            return None
        return self.incident_id

    def point_at(self, incident: Incident) -> None:
        self.incident_id, self.status, self.ref = incident.pk, incident.status, incident.ref


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def lock_groups(integration_id: int, fingerprints: list[str], *, careful: bool) -> dict[str, Group]:
    """Lock the groups of ``fingerprints`` (those that exist), in fingerprint
    order so that two batches never deadlock, with their incidents.

    The incident joined to a locked row is read as of the statement's start:
    had the statement waited for the lock, an incident opened meanwhile reads
    as none and is read again here, and one resolved meanwhile is caught by
    ``count_alerts``. The careful way, after such a catch, reads and locks
    the incidents after their groups, so nothing moves them until commit."""
    features = connection.features
    groups_table = connection.ops.quote_name(AlertGroupKey._meta.db_table)
    incidents_table = connection.ops.quote_name(Incident._meta.db_table)
    lock = " FOR UPDATE OF g" if features.has_select_for_update_of else ""
    sql = (
        "SELECT g.id, g.fingerprint, g.incident_id, i.status, i.ref "  # noqa: S608
        f"FROM {groups_table} g LEFT JOIN {incidents_table} i ON i.id = g.incident_id "
        f"WHERE g.integration_id = %s AND g.fingerprint IN ({_marks(fingerprints)}) "
        f"ORDER BY g.fingerprint{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [integration_id, *fingerprints])
        groups = {row[1]: Group(*row) for row in cursor.fetchall()}
        unread = sorted(
            {
                g.incident_id
                for g in groups.values()
                if g.incident_id is not None and (careful or g.status is None)
            }
        )
        if unread:
            lock = " FOR NO KEY UPDATE" if careful and features.has_select_for_no_key_update else ""
            cursor.execute(
                f"SELECT id, status, ref FROM {incidents_table} "  # noqa: S608
                f"WHERE id IN ({_marks(unread)}) ORDER BY id{lock}",
                unread,
            )
            fresh = {pk: (status, ref) for pk, status, ref in cursor.fetchall()}
            for group in groups.values():
                if group.incident_id in fresh:
                    group.status, group.ref = fresh[group.incident_id]
    return groups


def insert_new(rows: list[Alert]) -> dict[str, int]:
    """Write ``rows`` in one INSERT (per ``INSERT_CHUNK``); the ids of the
    new ones by occurrence key.

    A replay must change nothing, so the replay-dedup constraint
    ``alert_occurrence_once`` is met with ``ON CONFLICT DO NOTHING``. Django's
    ``bulk_create(ignore_conflicts=True)`` sets no primary keys and so cannot
    say which rows were new; ``RETURNING`` returns exactly those."""
    meta, quote = Alert._meta, connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    unique = ", ".join(
        quote(meta.get_field(name).column) for name in ("integration", "occurrence_key")
    )
    one = f"({_marks(fields)})"
    size = min(INSERT_CHUNK, connection.ops.bulk_batch_size(fields, rows) or INSERT_CHUNK)
    new: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT ({unique}) DO NOTHING RETURNING id, occurrence_key"
            )
            params = [
                f.get_db_prep_save(f.pre_save(row, True), connection)
                for row in chunk
                for f in fields
            ]
            cursor.execute(sql, params)
            new.update((key, pk) for pk, key in cursor.fetchall())
    return new


def count_alerts(counts: Counter, *, open_as_read: set[int]) -> None:
    """The one writer of ``Incident.alert_count``, which alert ingestion owns:
    add the batch's new alerts to each incident (``counts``: incident id ->
    alerts that joined or opened it), in one UPDATE.

    The UPDATE locks the incidents and sees their latest state, so it also
    checks that those in ``open_as_read`` are still open: should one have
    been resolved since it was read, ``IncidentMoved`` is raised and the
    caller writes the batch again, the careful way. The groups' locks
    serialise the batches that count one incident."""
    if not counts:
        return
    ids = sorted(counts)
    params: list = [value for pk in ids for value in (pk, counts[pk])]
    checked = [pk for pk in ids if pk in open_as_read]
    unchecked = [pk for pk in ids if pk not in open_as_read]
    where = []
    if unchecked:
        where.append(f"id IN ({_marks(unchecked)})")
        params += unchecked
    if checked:
        where.append(f"(id IN ({_marks(checked)}) AND status <> %s)")
        params += [*checked, Status.RESOLVED.value]
    table = connection.ops.quote_name(Incident._meta.db_table)
    sql = (
        f"UPDATE {table} SET alert_count = alert_count + "  # noqa: S608
        f"CASE id {' '.join(['WHEN %s THEN %s'] * len(ids))} END WHERE {' OR '.join(where)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount < len(ids):
            raise IncidentMoved
