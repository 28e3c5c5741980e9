"""The incident list's query parameters, parsed into the one
``selectors.IncidentFilters`` the board uses too. A malformed value is a 400
naming its parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import make_aware
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from ..models import Severity, Source, Status
from ..selectors import IncidentFilters
from .oncall_serializers import EARLIEST_YEAR, LATEST_YEAR

INCIDENT_FILTERS = [
    OpenApiParameter("status", str, description="Comma-separated statuses."),
    OpenApiParameter("severity", str, description="Comma-separated P0..P3."),
    OpenApiParameter("open", bool, description="true: not resolved; false: resolved."),
    OpenApiParameter("service", str, description="Affected service name."),
    OpenApiParameter("is_drill", bool),
    OpenApiParameter("source", str),
    OpenApiParameter("q", str, description="Text in reference, title, summary or alert titles."),
    OpenApiParameter("detected_after", OpenApiTypes.DATETIME),
    OpenApiParameter("detected_before", OpenApiTypes.DATETIME),
]

BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def incident_filters(request: Request) -> IncidentFilters:
    """The filters of ``GET /api/v1/incidents/`` (``INCIDENT_FILTERS``)."""
    query = request.query_params
    return IncidentFilters(
        statuses=choice_list(query, "status", Status),
        severities=choice_list(query, "severity", Severity),
        sources=choice_list(query, "source", Source),
        is_open=boolean(query, "open"),
        is_drill=boolean(query, "is_drill"),
        service=query.get("service", "").strip() or None,
        q=query.get("q", "").strip() or None,
        detected_after=moment(query, "detected_after"),
        detected_before=moment(query, "detected_before"),
    )


def boolean(query, name: str) -> bool | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() not in BOOLEANS:
        raise ValidationError({name: [f"must be true or false (got {raw[:40]!r})."]})
    return BOOLEANS[raw.lower()]


def choice_list(query, name: str, choices) -> list[str] | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    bad = [v for v in values if v not in choices.values]
    if bad:
        raise ValidationError({name: [f"{bad[0]!r} is not one of {', '.join(choices.values)}."]})
    return values


def moment(query, name: str) -> datetime | None:
    """An ISO 8601 date or time; naive ones in the site's zone; in UTC."""
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:  # well-formed but impossible values (month 13) raise ValueError
        value = parse_datetime(raw.replace(" ", "+"))
        if value is None and (day := parse_date(raw)) is not None:
            value = datetime(day.year, day.month, day.day)
    except ValueError:
        value = None
    if value is None:
        raise ValidationError({name: [f"must be an ISO 8601 date or time (got {raw[:40]!r})."]})
    # The same window as the on-call times: a year-9999 bound in a zone west
    # of UTC is past what datetime (and every page showing it) can hold.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            {name: [f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}."]}
        )
    # In UTC: PostgreSQL refuses offsets past ±15:59 (+17:18 was a 500)
    # that Python's datetime accepts.
    return (value if value.tzinfo else make_aware(value)).astimezone(UTC)
