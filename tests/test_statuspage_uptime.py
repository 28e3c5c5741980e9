"""The 90-day uptime computation (statuspage/uptime.py): time-weighted per
local day, major outage fully down, partial outage at 0.3, degraded up,
maintenance down only when its maintenance counts as downtime."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from statuspage import uptime
from statuspage.models import Component, ComponentStatusChange, Maintenance, PublicIncident
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # today is Nov 25, half over
TODAY = NOW.date()
H = timedelta(hours=1)
D = timedelta(days=1)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def component(name="API", *, created=NOW - 200 * D, status="operational", start_date=None):
    return Component.objects.create(
        name=name, status=status, created_at=created, updated_at=created, start_date=start_date
    )


def change(comp, old, new, at, maintenance=None):
    return ComponentStatusChange.objects.create(
        component=comp, old_status=old, new_status=new, at=at, maintenance=maintenance
    )


def outage(comp, status, start, end):
    change(comp, "operational", status, start)
    change(comp, status, "operational", end)


def days_of(comp, now=NOW, **options) -> list[uptime.Day]:
    return uptime.uptime([comp], now=now, tz=UTC, **options)[comp.pk].days


def day(comp, when: date, now=NOW) -> uptime.Day:
    found = [d for d in days_of(comp, now) if d.day == when]
    assert found, when
    return found[0]


def test_ninety_days_ending_today_all_up_without_changes():
    comp = component()

    days = days_of(comp)

    assert len(days) == 90
    assert days[-1].day == TODAY and days[0].day == TODAY - 89 * D
    assert all(d.uptime == 100.0 and d.level == "operational" for d in days)
    # Today counts only until now.
    assert days[-1].observed == 12 * 3600
    assert days[-2].observed == 24 * 3600


def test_a_major_outage_counts_fully_for_its_hours():
    comp = component()
    yesterday = TODAY - D
    outage(comp, "major_outage", midnight(yesterday) + 10 * H, midnight(yesterday) + 16 * H)

    found = day(comp, yesterday)

    assert found.uptime == pytest.approx(75.0)
    assert found.level == "major"
    assert day(comp, yesterday - D).uptime == 100.0


def test_a_partial_outage_counts_for_three_tenths_of_its_time():
    comp = component()
    yesterday = TODAY - D
    outage(comp, "partial_outage", midnight(yesterday), midnight(yesterday) + 10 * H)

    found = day(comp, yesterday)

    assert found.down == pytest.approx(10 * 3600 * uptime.PARTIAL_WEIGHT)
    assert found.uptime == pytest.approx(87.5)
    assert found.level == "partial"


def test_degraded_performance_is_up_but_shows():
    comp = component()
    yesterday = TODAY - D
    outage(comp, "degraded_performance", midnight(yesterday) + H, midnight(yesterday) + 5 * H)

    found = day(comp, yesterday)

    assert found.uptime == 100.0
    assert found.level == "degraded"


def test_a_change_at_midnight_belongs_to_the_day_it_starts():
    comp = component()
    target = TODAY - 3 * D
    outage(comp, "major_outage", midnight(target), midnight(target + D))

    assert day(comp, target - D).uptime == 100.0
    assert day(comp, target).uptime == 0.0
    assert day(comp, target + D).uptime == 100.0
    assert day(comp, target + D).level == "operational"


def test_a_status_spanning_days_is_split_at_each_midnight():
    comp = component()
    first = TODAY - 5 * D
    outage(comp, "major_outage", midnight(first) + 12 * H, midnight(first + 2 * D) + 12 * H)

    assert day(comp, first).uptime == pytest.approx(50.0)
    assert day(comp, first + D).uptime == 0.0
    assert day(comp, first + 2 * D).uptime == pytest.approx(50.0)
    assert day(comp, first + 3 * D).uptime == 100.0


def test_an_outage_still_running_counts_until_now():
    comp = component(status="major_outage")
    change(comp, "operational", "major_outage", midnight(TODAY) + 6 * H)

    found = day(comp, TODAY)

    assert found.observed == 12 * 3600
    assert found.uptime == pytest.approx(50.0)


def test_the_status_before_the_window_carries_into_it():
    comp = component(status="major_outage")
    change(comp, "operational", "major_outage", NOW - 100 * D)

    days = days_of(comp)

    assert all(d.uptime == 0.0 for d in days)
    assert uptime.uptime([comp], now=NOW, tz=UTC)[comp.pk].uptime == 0.0


def test_without_an_earlier_change_the_first_change_says_what_came_before():
    comp = component(status="operational")
    change(comp, "major_outage", "operational", midnight(TODAY - D) + 6 * H)

    assert day(comp, TODAY - D).uptime == pytest.approx(75.0)
    assert day(comp, TODAY - 2 * D).uptime == 0.0


def _maintenance(counts: bool) -> Maintenance:
    return Maintenance.objects.create(
        name="Upgrade",
        scheduled_for=NOW - 2 * D,
        scheduled_until=NOW - 2 * D + 6 * H,
        counts_as_downtime=counts,
        created_at=NOW - 5 * D,
        updated_at=NOW - 5 * D,
    )


@pytest.mark.parametrize(("counts", "expected"), [(True, 75.0), (False, 100.0)])
def test_maintenance_counts_as_downtime_only_when_it_says_so(counts, expected):
    comp = component()
    work = _maintenance(counts)
    target = TODAY - 2 * D
    change(comp, "operational", "under_maintenance", midnight(target) + 2 * H, work)
    change(comp, "under_maintenance", "operational", midnight(target) + 8 * H, work)

    found = day(comp, target)

    assert found.uptime == pytest.approx(expected)
    assert found.level == "maintenance"


def test_maintenance_set_by_hand_never_counts():
    comp = component()
    target = TODAY - 2 * D
    outage(comp, "under_maintenance", midnight(target), midnight(target) + 12 * H)

    assert day(comp, target).uptime == 100.0


def test_maintenance_running_when_the_window_opens_keeps_its_weight():
    comp = component(status="under_maintenance")
    work = _maintenance(True)
    change(comp, "operational", "under_maintenance", NOW - 95 * D, work)

    assert all(d.uptime == 0.0 for d in days_of(comp))


def test_a_component_created_in_the_window_has_no_data_before():
    created = midnight(TODAY - 10 * D) + 18 * H
    comp = component(created=created)

    days = days_of(comp)

    assert [d.has_data for d in days].count(False) == 79
    assert days[78].uptime is None and days[78].level == "none"
    creation = days[79]
    assert creation.day == TODAY - 10 * D and creation.observed == 6 * 3600
    assert creation.uptime == 100.0


def test_start_date_wins_over_created_at():
    comp = component(created=NOW - 2 * D, start_date=TODAY - 30 * D)

    days = days_of(comp)

    assert [d.has_data for d in days].count(False) == 59
    assert days[59].day == TODAY - 30 * D and days[59].observed == 24 * 3600


def test_a_component_created_after_now_has_no_data_at_all():
    comp = component(created=NOW + H)

    result = uptime.uptime([comp], now=NOW, tz=UTC)[comp.pk]

    assert not any(d.has_data for d in result.days)
    assert result.uptime is None


def test_the_ninety_day_figure_weighs_every_observed_second():
    comp = component()
    outage(comp, "major_outage", NOW - 10 * D, NOW - 10 * D + 9 * H)

    result = uptime.uptime([comp], now=NOW, tz=UTC)[comp.pk]

    observed = 89 * 24 + 12
    assert result.uptime == pytest.approx(100 * (1 - 9 / observed))


def test_days_follow_the_page_time_zone():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    comp = component()
    # 23:00 UTC on Nov 20 is already Nov 21 in Berlin.
    outage(comp, "major_outage", midnight(TODAY - 5 * D) - H, midnight(TODAY - 5 * D) + 5 * H)

    days = uptime.uptime([comp], now=NOW, tz=berlin)[comp.pk].days
    by_day = {d.day: d for d in days}

    assert by_day[TODAY - 5 * D].uptime == pytest.approx(75.0)  # 00:00 to 06:00 in Berlin
    assert by_day[TODAY - 6 * D].uptime == 100.0


def test_a_daylight_saving_day_has_its_real_length():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    comp = component(created=now - 400 * D)

    days = {d.day: d for d in uptime.uptime([comp], now=now, tz=berlin)[comp.pk].days}

    assert days[date(2026, 10, 25)].observed == 25 * 3600
    assert days[date(2026, 10, 24)].observed == 24 * 3600
    spring = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
    days = {d.day: d for d in uptime.uptime([comp], now=spring, tz=berlin)[comp.pk].days}
    assert days[date(2026, 3, 29)].observed == 23 * 3600


def test_each_day_lists_the_incidents_that_touched_the_component(bob):
    api = component("API")
    web = component("Web")
    start = midnight(TODAY - 4 * D) + 20 * H
    public = PublicIncident.objects.create(
        incident=factories.declare(actor=bob),
        name="API errors",
        impact="major",
        status="resolved",
        created_at=start,
        updated_at=start,
        started_at=start,
        resolved_at=midnight(TODAY - 2 * D),  # exactly at midnight
    )
    public.components.add(api)

    by_day = {d.day: d for d in days_of(api)}

    assert by_day[TODAY - 4 * D].incidents == [public]
    assert by_day[TODAY - 3 * D].incidents == [public]
    assert by_day[TODAY - 2 * D].incidents == []
    assert by_day[TODAY - 5 * D].incidents == []
    assert all(not d.incidents for d in days_of(web))


def test_an_open_incident_is_listed_until_today(bob):
    api = component("API")
    public = PublicIncident.objects.create(
        incident=factories.declare(actor=bob),
        name="Slow",
        impact="minor",
        created_at=NOW - 2 * D,
        updated_at=NOW - 2 * D,
        started_at=NOW - 2 * D,
    )
    public.components.add(api)

    days = days_of(api)

    assert [d.day for d in days if d.incidents] == [TODAY - 2 * D, TODAY - D, TODAY]


def test_queries_do_not_grow_with_components(django_assert_max_num_queries, bob):
    few = [component("A")]
    many = [component(f"C{i}") for i in range(12)]
    for comp in [*few, *many]:
        outage(comp, "major_outage", NOW - 3 * D, NOW - 3 * D + H)
        outage(comp, "partial_outage", NOW - 120 * D, NOW - 110 * D)
    public = PublicIncident.objects.create(
        incident=factories.declare(actor=bob),
        name="Many",
        created_at=NOW - 3 * D,
        updated_at=NOW - 3 * D,
        started_at=NOW - 3 * D,
    )
    public.components.add(*many)

    with django_assert_max_num_queries(4):
        uptime.uptime(few, now=NOW, tz=UTC)
    with django_assert_max_num_queries(4):
        result = uptime.uptime(many, now=NOW, tz=UTC)
    assert all(r.days[-4].uptime == pytest.approx(100 * 23 / 24) for r in result.values())


def test_no_components_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert uptime.uptime([], now=NOW, tz=UTC) == {}


@pytest.mark.parametrize(
    ("value", "text"),
    [(100.0, "100%"), (99.999, "99.99%"), (99.5, "99.50%"), (0.0, "0.00%"), (None, "no data")],
)
def test_percentages_are_rounded_down_so_downtime_never_reads_100(value, text):
    assert uptime.percent(value) == text
