"""The statements alert ingestion runs, in SQL (``services.alerts`` and
``integration_lookup`` call them; nothing else should).
``Incident.alert_count`` belongs to ``alert_record``: it is written here
only, by ``join_open`` and ``count_alerts``.

Ingestion runs at the speed of the database: in a storm, a request is ONE
statement, ``join_open`` (which checks the sender's token itself, so the
webhooks may keep the integration they read for a few seconds:
``integrations.integration_sender``).
Built by the ORM, each of these statements cost more in Python than in
PostgreSQL (the query compiler, not the query), so they are written here
once, from the models' own table and column names, with every value a
parameter; the one every storm request runs is a prepared statement.

``join_open`` is PostgreSQL's (it needs data-modifying ``WITH``); the rest
stays portable to SQLite, the demo's embedded database, which takes no row
locks but serialises writers.
"""

from __future__ import annotations

import functools
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections

from ..models import Alert, AlertAction, AlertGroupKey, Incident, Integration, Status

# Rows per statement: a batch of any usual size is one; a 1 MiB body of tiny
# alerts is a few.
CHUNK = 1000
# The Alert columns a batch supplies; ``join_open`` and the router set the rest.
ROUTED = ("incident", "action")
# ``join_open`` for a batch of up to this many alerts is a prepared statement:
# PostgreSQL parses and plans it once per connection, which halved its cost
# for a single alert; a bigger batch shares that cost among its alerts.
PREPARED_UP_TO = 16
# The statements prepared on each database session, by the connection object
# (Django reconnecting gives a new one). A prepared statement belongs to the
# session, not to a transaction: a rollback keeps it. (A proxy that pools
# connections by transaction, such as PgBouncer in transaction mode, would
# not keep it: one is not used here.)
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


@functools.cache
def _fields(*, routed: bool) -> tuple:
    return tuple(
        f
        for f in Alert._meta.concrete_fields
        if not f.primary_key and (routed or f.name not in ROUTED)
    )


def _values(rows: list[Alert], fields: tuple) -> list:
    db = connections[DEFAULT_DB_ALIAS]
    return [f.get_db_prep_save(f.pre_save(row, True), db) for row in rows for f in fields]


def _chunks(rows: list) -> list[list]:
    return [rows[start : start + CHUNK] for start in range(0, len(rows), CHUNK)]


def _execute_prepared(cursor, name: str, sql: str, params: list) -> None:
    """Run ``sql`` (``%s`` placeholders) as the prepared statement ``name``,
    preparing it on first use on this connection."""
    names = _prepared.setdefault(connection.connection, set())
    if name not in names:
        numbered = sql % tuple(f"${n}" for n in range(1, len(params) + 1))
        cursor.execute(f"PREPARE {name} AS {numbered}")
        names.add(name)
    cursor.execute(f"EXECUTE {name} ({_marks(len(params))})", params)


# --- the storm: firing alerts that join open incidents -----------------------


class Known(NamedTuple):
    """An alert of the batch that ``join_open`` wrote (``new``) or found
    stored already (a replay), and what it did: its action, the reference
    of its incident, and, for a stored one, the fingerprint, status and
    severity it was stored with."""

    new: bool
    action: str
    ref: str | None
    fingerprint: str | None = None
    status: str | None = None
    severity: str | None = None


@functools.lru_cache(maxsize=256)
def _join_sql(rows: int, fingerprints: int) -> str:
    """``join_open``'s statement for a shape of batch (built once per shape:
    building it cost as much as running it)."""
    fields = _fields(routed=False)
    columns = ", ".join(_q(f.column) for f in fields)
    row = (
        "(" + ", ".join(f"CAST(%s AS {f.db_type(connection).split('(')[0]})" for f in fields) + ")"
    )
    alerts = _q(Alert._meta.db_table)
    groups, incidents = _q(AlertGroupKey._meta.db_table), _q(Incident._meta.db_table)
    integrations = _q(Integration._meta.db_table)
    return (
        # The sender, as it is now: a disabled integration or a rotated
        # token writes and finds nothing (its caller may have kept it).
        f"WITH sender AS (SELECT id FROM {integrations}"  # noqa: S608
        " WHERE id = %s AND token_hash = %s AND enabled"
        "), open AS ("
        f" SELECT g.fingerprint, i.id, i.ref FROM sender JOIN {groups} g"
        " ON g.integration_id = sender.id"
        f" JOIN {incidents} i ON i.id = g.incident_id"
        f" WHERE g.fingerprint IN ({_marks(fingerprints)})"
        " AND i.status <> %s ORDER BY i.id FOR NO KEY UPDATE OF i"
        f"), batch ({columns}) AS (VALUES {', '.join([row] * rows)}"
        "), inserted AS ("
        f" INSERT INTO {alerts} ({columns}, incident_id, action)"
        f" SELECT {', '.join('batch.' + _q(f.column) for f in fields)}, open.id, %s"
        " FROM batch JOIN open ON open.fingerprint = batch.fingerprint"
        " ON CONFLICT (integration_id, occurrence_key) DO NOTHING"
        " RETURNING fingerprint, occurrence_key, incident_id"
        "), counted AS ("
        f" UPDATE {incidents} SET alert_count = alert_count + added.alerts"
        " FROM (SELECT incident_id, count(*) AS alerts FROM inserted"
        " GROUP BY incident_id) added"
        f" WHERE {incidents}.id = added.incident_id"
        ") SELECT inserted.occurrence_key, TRUE, NULL, open.ref, NULL, NULL, NULL"
        " FROM inserted JOIN open ON open.fingerprint = inserted.fingerprint"
        " UNION ALL SELECT a.occurrence_key, FALSE, a.action, i.ref, a.fingerprint, a.status,"
        f" a.severity FROM sender JOIN {alerts} a ON a.integration_id = sender.id"
        f" LEFT JOIN {incidents} i ON i.id = a.incident_id"
        f" WHERE a.occurrence_key IN ({_marks(rows)})"
    )


def join_open(integration: Integration, rows: list[Alert]) -> dict[str, Known]:
    """Write the firing alerts in ``rows`` whose fingerprint's incident is
    open, as joining it, and count them on it; and find those stored
    already (replays, which it does not write again). One statement per
    ``CHUNK``, atomic on its own. Returns what it wrote or found, by
    occurrence key; an alert it does not name is left to the caller (its
    fingerprint has no open incident).

    The incidents are locked (in id order: two statements never deadlock)
    and read after the lock, so an incident resolved meanwhile is not
    joined: its alerts are left to the caller, which opens a new one. The
    statement reads the integration too: when it is disabled or its token
    has changed, nothing is written or found."""
    known: dict[str, Known] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            fingerprints = sorted({row.fingerprint for row in chunk})
            params = [
                integration.pk,
                integration.token_hash,
                *fingerprints,
                Status.RESOLVED.value,
                *_values(chunk, _fields(routed=False)),
                AlertAction.JOINED.value,
                *(row.occurrence_key for row in chunk),
            ]
            sql = _join_sql(len(chunk), len(fingerprints))
            if len(chunk) <= PREPARED_UP_TO:
                name = f"treebeard_alert_join_{len(chunk)}_{len(fingerprints)}"
                _execute_prepared(cursor, name, sql, params)
            else:
                cursor.execute(sql, params)
            for key, new, action, ref, *stored in cursor.fetchall():
                known[key] = Known(new, action or AlertAction.JOINED, ref, *stored)
    return known


# --- everything else: under the groups' locks --------------------------------


@dataclass
class Group:
    """A fingerprint's group row (``AlertGroupKey``) and the incident it
    points to, both locked by this transaction."""

    pk: int
    fingerprint: str
    incident_id: int | None
    status: str | None = None  # the incident's
    ref: str | None = None

    @property
    def open_incident_id(self) -> int | None:
        if self.incident_id is None or self.status in (None, Status.RESOLVED):
            return None
        return self.incident_id

    def point_at(self, incident: Incident) -> None:
        self.incident_id, self.status, self.ref = incident.pk, incident.status, incident.ref


def lock_groups(integration_id: int, fingerprints: list[str]) -> dict[str, Group]:
    """Lock the groups of ``fingerprints`` (those that exist) in fingerprint
    order, then their incidents in id order (so two batches never deadlock),
    and read the incidents once they are locked: nothing moves them until
    commit. Two alerts of one fingerprint never open two incidents."""
    features = connection.features
    lock = " FOR UPDATE" if features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, fingerprint, incident_id FROM {_q(AlertGroupKey._meta.db_table)} "  # noqa: S608
            f"WHERE integration_id = %s AND fingerprint IN ({_marks(len(fingerprints))}) "
            f"ORDER BY fingerprint{lock}",
            [integration_id, *fingerprints],
        )
        groups = {row[1]: Group(*row) for row in cursor.fetchall()}
        ids = sorted({g.incident_id for g in groups.values() if g.incident_id is not None})
        if ids:
            lock = " FOR NO KEY UPDATE" if features.has_select_for_no_key_update else ""
            cursor.execute(
                f"SELECT id, status, ref FROM {_q(Incident._meta.db_table)} "  # noqa: S608
                f"WHERE id IN ({_marks(len(ids))}) ORDER BY id{lock}",
                ids,
            )
            read = {pk: (status, ref) for pk, status, ref in cursor.fetchall()}
            for group in groups.values():
                group.status, group.ref = read.get(group.incident_id, (None, None))
    return groups


def insert_new(rows: list[Alert]) -> dict[str, int]:
    """Write ``rows`` in one INSERT (per ``CHUNK``); the ids of the new ones
    by occurrence key.

    A replay must change nothing, so the replay-dedup constraint
    ``alert_occurrence_once`` is met with ``ON CONFLICT DO NOTHING``. Django's
    ``bulk_create(ignore_conflicts=True)`` sets no primary keys and so cannot
    say which rows were new; ``RETURNING`` returns exactly those."""
    fields = _fields(routed=True)
    columns = ", ".join(_q(f.column) for f in fields)
    one = f"({_marks(len(fields))})"
    new: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            cursor.execute(
                f"INSERT INTO {_q(Alert._meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(chunk))} "
                "ON CONFLICT (integration_id, occurrence_key) DO NOTHING "
                "RETURNING id, occurrence_key",
                _values(chunk, fields),
            )
            new.update((key, pk) for pk, key in cursor.fetchall())
    return new


def count_alerts(counts: Counter) -> None:
    """Add alerts to incidents (``counts``: incident id -> alerts that joined
    or opened it), in one UPDATE; the incidents are locked by the caller."""
    if not counts:
        return
    ids = sorted(counts)
    table = _q(Incident._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET alert_count = alert_count + "  # noqa: S608
            f"CASE id {' '.join(['WHEN %s THEN %s'] * len(ids))} END "
            f"WHERE id IN ({_marks(len(ids))})",
            [*(value for pk in ids for value in (pk, counts[pk])), *ids],
        )
