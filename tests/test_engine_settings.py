"""Settings of the SLA engine: business hours read strictly from the
environment, and the Celery beat schedule and tasks the workers run."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tests.test_settings import run_python
from treebeard_ir.env import env_clock_time, env_dates, env_time_zone, env_weekdays


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("09:00", "09:00"), ("7:30", "07:30"), (" 23:59 ", "23:59"), ("", "09:00")],
)
def test_clock_times_are_normalised(raw, expected):
    assert env_clock_time("DIGEST_TIME", "09:00", environ={"DIGEST_TIME": raw}) == expected


@pytest.mark.parametrize("raw", ["9", "24:00", "09:60", "09:5", "nine", "09:00:00", "-1:00"])
def test_a_malformed_clock_time_is_an_error_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match=f"DIGEST_TIME={raw!r} is not a time of day"):
        env_clock_time("DIGEST_TIME", "09:00", environ={"DIGEST_TIME": raw})


def test_time_zones_must_be_iana_names():
    assert env_time_zone("TZ_X", "UTC", environ={"TZ_X": "Europe/Berlin"}) == "Europe/Berlin"
    with pytest.raises(ImproperlyConfigured, match="TZ_X='Mars/Olympus' is not an IANA"):
        env_time_zone("TZ_X", "UTC", environ={"TZ_X": "Mars/Olympus"})


def test_weekdays_are_iso_numbers():
    assert env_weekdays("DAYS", [1], environ={"DAYS": "5, 1,2"}) == [1, 2, 5]
    assert env_weekdays("DAYS", [1, 2, 3, 4, 5], environ={}) == [1, 2, 3, 4, 5]
    for raw in ("0", "8", "mon", "1,,x"):
        with pytest.raises(ImproperlyConfigured, match=r"DAYS=.* must list ISO weekdays"):
            env_weekdays("DAYS", [1], environ={"DAYS": raw})


def test_holidays_are_iso_dates():
    assert env_dates("HOL", environ={"HOL": "2026-12-25, 2026-12-24"}) == [
        "2026-12-24",
        "2026-12-25",
    ]
    assert env_dates("HOL", environ={}) == []
    for raw in ("2026-13-01", "25.12.2026", "20261225"):
        with pytest.raises(ImproperlyConfigured, match="HOL has"):
            env_dates("HOL", environ={"HOL": raw})


def test_business_hours_and_the_digest_time_come_from_the_environment(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "e = s.CELERY_BEAT_SCHEDULE['send-digest']['schedule']; "
        "print(json.dumps({n: getattr(s, n) for n in ('BUSINESS_TIME_ZONE', "
        "'BUSINESS_HOURS_START', 'BUSINESS_HOURS_END', 'BUSINESS_DAYS', 'BUSINESS_HOLIDAYS', "
        "'CELERY_TIMEZONE', 'SLA_SWEEP_SECONDS')} | {'digest': [sorted(e.hour), "
        "sorted(e.minute)]}))"
    )
    result = run_python(
        tmp_path,
        code,
        BUSINESS_TIME_ZONE="Europe/Berlin",
        BUSINESS_HOURS_START="8:30",
        BUSINESS_HOURS_END="18:00",
        BUSINESS_DAYS="1,2,3,4",
        BUSINESS_HOLIDAYS="2026-12-24",
        DIGEST_TIME="07:45",
        SLA_SWEEP_SECONDS="3",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "BUSINESS_TIME_ZONE": "Europe/Berlin",
        "BUSINESS_HOURS_START": "08:30",
        "BUSINESS_HOURS_END": "18:00",
        "BUSINESS_DAYS": [1, 2, 3, 4],
        "BUSINESS_HOLIDAYS": ["2026-12-24"],
        # The digest's crontab is read in the business time zone.
        "CELERY_TIMEZONE": "Europe/Berlin",
        "SLA_SWEEP_SECONDS": 3,
        "digest": [[7], [45]],
    }


def test_the_beat_schedule_runs_the_engine_tasks_and_lets_stale_runs_expire():
    from treebeard_ir.celery import app

    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} == {
        "incidents.sweep_deadlines",
        "incidents.relay_notifications",
        "incidents.send_digest",
    }
    assert schedule["sweep-deadlines"]["schedule"] == settings.SLA_SWEEP_SECONDS
    assert schedule["relay-notifications"]["schedule"] == settings.NOTIFY_RELAY_SECONDS
    for name, entry in schedule.items():
        assert entry["options"]["expires"] > 0, name
        assert entry["task"] in app.tasks, f"{entry['task']} is not registered"
    assert "incidents.deliver_notification" in app.tasks


def test_the_sweep_task_calls_the_sweep(db):
    from incidents.tasks import sweep_deadlines

    assert sweep_deadlines.apply().get() == 0
    assert sweep_deadlines.expires
