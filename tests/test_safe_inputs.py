"""The shared guards every entry point uses: strict JSON and typed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from incidents import safejson, timebounds
from incidents.errors import DomainError, IncidentError

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"NaN", None),
        (b"[Infinity]", None),
        (b"[1e999]", None),
        (b'{"a": "\\u0000"}', "a"),
        (b'{"a": ["ok", "\\ud800"]}', "a[1]"),
        (b'{"\\u0000": 1}', "<key>"),
        (b"[" * 65 + b"]" * 65, None),
        (b"1" * 5000, None),
        (b"\xff\xfe", None),
        (b"{", None),
    ],
)
def test_hostile_json_is_refused_naming_where(raw, field):
    with pytest.raises(safejson.JsonInputError) as caught:
        safejson.loads(raw)
    assert caught.value.field == field
    assert caught.value.message


def test_ordinary_json_decodes():
    assert safejson.loads(b'\xef\xbb\xbf{"a": [1, 2.5, "\\u00e9", null]}') == {
        "a": [1, 2.5, "é", None]
    }
    assert safejson.loads(b"[" * 64 + b"]" * 64)


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1999, 12, 31, tzinfo=UTC),
        NOW + timedelta(days=5 * 366 + 1),
        datetime(2026, 12, 1, 12),  # naive
    ],
)
def test_typed_times_outside_what_every_page_can_show_are_refused(value):
    with pytest.raises(DomainError) as caught:
        timebounds.check_typed_time(value, field="starts_at", now=NOW)
    assert caught.value.field == "starts_at"


def test_typed_time_in_range_comes_back_in_utc():
    local = datetime(2027, 3, 1, 9, tzinfo=timezone(timedelta(hours=-12)))
    assert timebounds.check_typed_time(local, field="x", now=NOW) == datetime(
        2027, 3, 1, 21, tzinfo=UTC
    )


def test_past_only_times_refuse_the_future_beyond_clock_skew():
    with pytest.raises(DomainError):
        timebounds.check_typed_time(
            NOW + timedelta(hours=1), field="detected_at", allow_future=False, now=NOW
        )
    ok = NOW + timedelta(minutes=2)
    assert timebounds.check_typed_time(ok, field="detected_at", allow_future=False, now=NOW) == ok


def test_incident_errors_are_domain_errors_and_the_api_maps_either_alike(alice):
    """Callers catch ``DomainError``: an incident rule (``IncidentError``) and
    any other rule (tokens, on-call, contacts) reach the same handlers."""
    from incidents.api.errors import api_exception_handler

    assert issubclass(IncidentError, DomainError)
    for error in (
        DomainError("name is required.", field="name"),
        IncidentError("Already acknowledged.", conflict=True),
    ):
        response = api_exception_handler(error, {})
        assert response.status_code == (409 if error.conflict else 400)
        assert response.data["detail"] == error.message
