"""Input checks the services share: text, choices, whole numbers, services,
the severity policy in force, the incident reference, and the other rows a
unique value must not be taken by (``others``). Each raises ``IncidentError``
naming the field (``check_text`` and ``check_choice`` raise ``error``, and
``check_whole_number`` and ``check_field_text`` ``DomainError``, for the
services of things other than incidents); nothing here writes but the
reference counter and new ``Service`` rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection, models

from ..errors import DomainError, IncidentError
from ..models import Incident, ReferenceCounter, Service, SeverityPolicy, Status

SERVICE_NAME_MAX = Service._meta.get_field("name").max_length


def policy_for(severity: str) -> SeverityPolicy:
    try:
        return SeverityPolicy.objects.get(severity=severity)
    except SeverityPolicy.DoesNotExist:
        raise IncidentError(
            f"No severity policy for {severity}; a manager must restore it in the admin.",
            field="severity",
        ) from None


def check_choice(value, choices, field: str, *, error: type[DomainError] = IncidentError) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise error(f"{field} must be one of: {allowed} (got {value!r}).", field=field)
    return value


def check_text(
    value,
    field: str,
    *,
    required: bool,
    max_length: int | None = None,
    error: type[DomainError] = IncidentError,
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(f"{field} must be text.", field=field)
    value = value.strip()
    if required and not value:
        raise error(f"{field} is required.", field=field)
    if max_length and len(value) > max_length:
        raise error(f"{field} is longer than {max_length} characters.", field=field)
    return value


def service_name(raw, field: str = "services", *, error: type[DomainError] = IncidentError) -> str:
    """A service's name as stored: stripped, lower case, fitting its column."""
    return check_text(raw, field, required=True, max_length=SERVICE_NAME_MAX, error=error).lower()


def service_rows(names: Iterable[str]) -> list[Service]:
    clean = {service_name(raw) for raw in names}
    # Create in one fixed order: two declarations inserting the same new
    # services in opposite orders would otherwise deadlock on the unique index.
    return [Service.objects.get_or_create(name=name)[0] for name in sorted(clean)]


def require_open(incident: Incident, action: str) -> None:
    if incident.status == Status.RESOLVED:
        raise IncidentError(
            f"{incident.ref} is resolved; reopen it before you {action}.", conflict=True
        )


def next_reference(detected_at: datetime) -> str:
    """Allocate ``INC-YYYYMMDD-NNN`` for the day of detection (UTC).

    One upsert bumps the day's counter and returns the new value; on
    PostgreSQL the row lock serialises concurrent declarations until commit,
    so two incidents can never share a number.
    """
    day = detected_at.astimezone(UTC).date()
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 (table name is ours)
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        number = cursor.fetchone()[0]
    return f"INC-{day:%Y%m%d}-{number:03d}"


def check_whole_number(value, field: str, *, low: int, high: int, optional: bool = False):
    """``value`` if it is an int in ``[low, high]`` (None too when
    ``optional``), else ``DomainError`` naming ``field``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        empty = ", or empty for none" if optional else ""
        raise DomainError(
            f"{field} must be a whole number from {low} to {high}{empty}.", field=field
        )
    return value


def others(model: type[models.Model], row: models.Model | None) -> models.QuerySet:
    """The rows of ``model`` but ``row``, the one being changed (all of them
    for a new row, None): where a value must not be taken already."""
    rows = model.objects.all()
    return rows if row is None else rows.exclude(pk=row.pk)


def check_field_text(model, field: str, value, *, required: bool = True) -> str:
    """``value`` as the text of ``model.field``: stripped, present when
    ``required``, within the column's length; else ``DomainError``."""
    limit = model._meta.get_field(field).max_length
    return check_text(value, field, required=required, max_length=limit, error=DomainError)
