"""Clean times stored before every entry point checked them (timebounds).

Until now a responder could store an override at 9999-12-31 in Etc/GMT+12
(10000-01-01 in UTC): PostgreSQL keeps it, but psycopg cannot load it, so
every on-call page, the schedules API and the admin answered 500 and nothing
in the product could remove it. Detection times and rotation hand-offs had
the same hole. Each statement below is a plain UPDATE or DELETE, so it never
loads a row it could not read.

What happens to each kind of row, and why:

- An override wholly outside the window a person may type now
  (2000-01-01 .. today + 5 years) covers nothing anyone will see: deleted.
- An override reaching past an edge is clamped to it, so who is on call
  today stays exactly as it was (deleting it could silently change who is
  paged tonight).
- An incident's detection time before 2000 or after its declaration (+5 min
  of clock skew) becomes its declaration time: the incident record stays, and
  the declaration is the latest moment it can have been detected. The
  ``declared`` timeline event keeps the time as it was typed.
- A rotation's end no page can show (past 9999-12-30 UTC) becomes "no end",
  which is what such an end meant; a rotation whose first hand-off no page can
  show hands off never: deleted with its members.

The bounds are copied, not imported, so that this migration means the same
thing when the code's bounds change later.
"""

from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.db.models import F, Q

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FURTHEST_AHEAD = timedelta(days=5 * 366)
CLOCK_SKEW = timedelta(minutes=5)
SHOWABLE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))


def _delete(schema_editor, model, where: str, params: list) -> None:
    # Raw, because QuerySet.delete() may load the rows first to collect them.
    table = schema_editor.quote_name(model._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608 (our names)


def clean(apps, schema_editor) -> None:
    Override = apps.get_model("incidents", "Override")
    Incident = apps.get_model("incidents", "Incident")
    Rotation = apps.get_model("incidents", "Rotation")
    RotationMember = apps.get_model("incidents", "RotationMember")
    latest = datetime.now(UTC) + FURTHEST_AHEAD
    low, high = SHOWABLE

    # 1. Overrides: delete those wholly outside, then clamp the ones reaching out.
    _delete(schema_editor, Override, "ends_at <= %s OR starts_at >= %s", [EARLIEST, latest])
    Override.objects.filter(starts_at__lt=EARLIEST).update(starts_at=EARLIEST)
    Override.objects.filter(ends_at__gt=latest).update(ends_at=latest)

    # 2. Detection times: the declaration time where the typed one is impossible.
    Incident.objects.filter(
        Q(detected_at__lt=EARLIEST) | Q(detected_at__gt=F("declared_at") + CLOCK_SKEW)
    ).update(detected_at=F("declared_at"))

    # 3. Rotations no page can show.
    Rotation.objects.filter(ends_at__gt=high).update(ends_at=None)
    outside = "starts_at < %s OR starts_at > %s"
    rotations = schema_editor.quote_name(Rotation._meta.db_table)
    _delete(
        schema_editor,
        RotationMember,
        f"rotation_id IN (SELECT id FROM {rotations} WHERE {outside})",  # noqa: S608
        [low, high],
    )
    _delete(schema_editor, Rotation, outside, [low, high])


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_oncall_escalation_notifications"),
    ]

    operations = [
        migrations.RunPython(clean, migrations.RunPython.noop, elidable=True),
    ]
