"""Who is on call: rotations (daily, weekly, custom), DST hand-offs, layers,
overrides, and the arithmetic fast path checked against a naive walk."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from incidents import services
from incidents.errors import DomainError
from incidents.models import Override, Rotation, Schedule
from incidents.oncall import (
    OVERRIDE,
    ROTATION,
    people_for,
    schedules_oncall,
    shifts,
    who_is_on_call,
)
from tests import factories

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


def schedule(name: str = "Primary", time_zone: str = "UTC") -> Schedule:
    return Schedule.objects.create(
        name=name, slug=name.lower().replace(" ", "-"), time_zone=time_zone
    )


# This module's rotations: daily from T0, a layer of the schedule, unless a test says.
rotation = partial(factories.rotation, starts_at=T0, interval="daily", name="Layer")


@pytest.fixture
def people(db):
    return [factories.UserFactory(username=n) for n in ("ann", "ben", "cat", "dan")]


def berlin_turns(people, starts_at: datetime, **options) -> Schedule:
    """A Berlin schedule on which ann and ben take turns from ``starts_at``
    (daily unless ``options`` say)."""
    sched = schedule(time_zone="Europe/Berlin")
    rotation(sched, people[:2], starts_at=starts_at, **options)
    return sched


def who(sched, at) -> str | None:
    shift = who_is_on_call(sched, at)
    return shift.user.username if shift else None


def spans(items) -> list[tuple[str, datetime, datetime, str]]:
    return [(s.user.username, s.starts_at, s.ends_at, s.source) for s in items]


# --- rotations ----------------------------------------------------------------------


def test_daily_rotation_hands_off_every_day_in_position_order(people):
    ann, ben, cat, _ = people
    sched = schedule()
    # Saved out of order: the turn order is the position, not the insertion.
    rotation(sched, [cat, ann, ben], positions=[2, 0, 1])

    got = [who(sched, T0 + timedelta(days=d, hours=1)) for d in range(5)]

    assert got == ["ann", "ben", "cat", "ann", "ben"]


def test_weekly_rotation_hands_off_every_seven_days(people):
    ann, ben, *_ = people
    sched = schedule()
    rotation(sched, [ann, ben], interval="weekly")

    assert who(sched, T0 + timedelta(days=6, hours=23)) == "ann"
    assert who(sched, T0 + timedelta(days=7)) == "ben"
    assert who(sched, T0 + timedelta(days=14)) == "ann"


def test_custom_rotation_hands_off_every_shift_hours(people):
    ann, ben, cat, _ = people
    sched = schedule()
    rotation(sched, [ann, ben, cat], interval="custom", shift_hours=12)

    shift = who_is_on_call(sched, T0 + timedelta(hours=30))

    assert shift.user == cat
    assert (shift.starts_at, shift.ends_at) == (T0 + timedelta(hours=24), T0 + timedelta(hours=36))
    assert (shift.source, shift.rotation_id) == (ROTATION, sched.rotations.get().pk)


def test_who_is_on_call_reports_the_whole_shift_not_just_the_moment(people):
    ann, ben, *_ = people
    sched = schedule()
    rotation(sched, [ann, ben], interval="weekly")

    shift = who_is_on_call(sched, T0 + timedelta(days=10))

    assert (shift.user, shift.starts_at, shift.ends_at) == (
        ben,
        T0 + timedelta(days=7),
        T0 + timedelta(days=14),
    )


def test_nobody_is_on_call_before_the_first_hand_off_or_after_the_end(people):
    ann, ben, *_ = people
    sched = schedule()
    rotation(sched, [ann, ben], ends_at=T0 + timedelta(days=1, hours=6))

    assert who(sched, T0 - timedelta(seconds=1)) is None
    assert who(sched, T0) == "ann"
    last = who_is_on_call(sched, T0 + timedelta(days=1, hours=5))
    assert (last.user, last.ends_at) == (ben, T0 + timedelta(days=1, hours=6))
    assert who(sched, T0 + timedelta(days=1, hours=6)) is None


def test_a_rotation_without_members_covers_nothing_and_lower_layers_show_through(people):
    ann, *_ = people
    sched = schedule()
    rotation(sched, [], priority=10, name="Empty")
    rotation(sched, [ann], priority=1, name="Base")

    assert who(sched, T0 + timedelta(hours=3)) == "ann"
    assert who_is_on_call(schedule("Empty only"), T0) is None


# --- daylight-saving time -----------------------------------------------------------


def test_weekly_hand_off_keeps_0900_berlin_across_spring_forward(people):
    ann, _ben, *_ = people
    # Monday 24 March 2025 09:00 CET (08:00 UTC); clocks go forward on the 30th.
    sched = berlin_turns(people, datetime(2025, 3, 24, 9, 0, tzinfo=BERLIN), interval="weekly")

    first = who_is_on_call(sched, datetime(2025, 3, 27, tzinfo=UTC))

    handoff = datetime(2025, 3, 31, 9, 0, tzinfo=BERLIN)
    assert handoff.astimezone(UTC) == datetime(2025, 3, 31, 7, 0, tzinfo=UTC)  # CEST now
    assert (first.user, first.ends_at) == (ann, handoff)
    assert first.ends_at - first.starts_at == timedelta(days=7, hours=-1)
    assert who(sched, handoff - timedelta(seconds=1)) == "ann"
    assert who(sched, handoff) == "ben"


def test_daily_hand_off_keeps_0900_berlin_across_fall_back(people):
    # Clocks go back on Sunday 26 October 2025 (03:00 CEST → 02:00 CET).
    sched = berlin_turns(people, datetime(2025, 10, 24, 9, 0, tzinfo=BERLIN))

    items = shifts(
        sched, datetime(2025, 10, 24, 7, tzinfo=UTC), datetime(2025, 10, 28, 8, tzinfo=UTC)
    )

    starts = [s.starts_at.astimezone(BERLIN).strftime("%d %H:%M %Z") for s in items]
    assert starts == ["24 09:00 CEST", "25 09:00 CEST", "26 09:00 CET", "27 09:00 CET"]
    assert items[1].ends_at - items[1].starts_at == timedelta(hours=25)


def test_custom_rotation_hands_off_by_the_hour_whatever_the_clock_says(people):
    _ann, ben, *_ = people
    sched = berlin_turns(
        people, datetime(2025, 3, 29, 9, 0, tzinfo=BERLIN), interval="custom", shift_hours=24
    )

    second = who_is_on_call(sched, datetime(2025, 3, 30, 12, 0, tzinfo=UTC))

    assert second.user == ben
    assert second.starts_at.astimezone(BERLIN).hour == 10  # 24 h later, across the change


def test_a_hand_off_inside_the_spring_gap_happens_when_the_clock_resumes(people):
    # 02:30 does not exist on 30 March 2025 in Berlin.
    sched = berlin_turns(people, datetime(2025, 3, 29, 2, 30, tzinfo=BERLIN))

    first = who_is_on_call(sched, datetime(2025, 3, 29, 12, 0, tzinfo=UTC))

    assert first.ends_at == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert who(sched, datetime(2025, 3, 31, 0, 30, tzinfo=UTC)) == "ann"  # 02:30 CEST, day 3
    # A window opening at 03:10 CEST, after the missing 02:30 but before the hand-off.
    items = shifts(
        sched, datetime(2025, 3, 30, 1, 10, tzinfo=UTC), datetime(2025, 3, 30, 2, 0, tzinfo=UTC)
    )
    assert spans(items) == [
        ("ann", datetime(2025, 3, 30, 1, 10, tzinfo=UTC), first.ends_at, ROTATION),
        ("ben", first.ends_at, datetime(2025, 3, 30, 2, 0, tzinfo=UTC), ROTATION),
    ]


def test_a_hand_off_in_the_repeated_autumn_hour_happens_at_its_first_occurrence(people):
    _ann, ben, *_ = people
    # 02:30 happens twice on 26 October 2025 in Berlin (CEST, then CET).
    sched = berlin_turns(people, datetime(2025, 10, 25, 2, 30, tzinfo=BERLIN))
    handoff = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # the first 02:30, still CEST

    # A window opening at the second 02:10 (CET): on the wall clock before
    # 02:30, yet after the hand-off.
    items = shifts(
        sched, datetime(2025, 10, 26, 1, 10, tzinfo=UTC), datetime(2025, 10, 26, 2, 0, tzinfo=UTC)
    )

    assert [s.user for s in items] == [ben]
    assert who_is_on_call(sched, handoff).starts_at == handoff


# --- layers and overrides ---------------------------------------------------------------


def test_the_highest_priority_rotation_wins_where_several_have_someone(people):
    ann, ben, *_ = people
    sched = schedule()
    rotation(sched, [ann], priority=1, name="Base", starts_at=T0 - timedelta(days=1))
    # Business hours only: 8-hour shifts every day, on top of the base layer.
    rotation(
        sched,
        [ben],
        name="Day",
        priority=5,
        interval="custom",
        shift_hours=8,
        ends_at=T0 + timedelta(hours=8),
    )

    items = shifts(sched, T0 - timedelta(hours=2), T0 + timedelta(hours=12))

    assert spans(items) == [
        ("ann", T0 - timedelta(hours=2), T0, ROTATION),
        ("ben", T0, T0 + timedelta(hours=8), ROTATION),
        ("ann", T0 + timedelta(hours=8), T0 + timedelta(hours=12), ROTATION),
    ]


def test_equal_priorities_go_to_the_rotation_created_first(people):
    ann, ben, *_ = people
    sched = schedule()
    rotation(sched, [ann], name="First")
    rotation(sched, [ben], name="Second")

    assert who(sched, T0 + timedelta(hours=1)) == "ann"


def test_an_override_cuts_into_the_rotation_shift(people):
    ann, ben, cat, _ = people
    sched = schedule()
    rotation(sched, [ann, ben], interval="weekly")
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=3)
    factories.override(sched, cat, start, end)

    items = shifts(sched, T0, T0 + timedelta(days=8))

    assert spans(items) == [
        ("ann", T0, start, ROTATION),
        ("cat", start, end, OVERRIDE),
        ("ann", end, T0 + timedelta(days=7), ROTATION),
        ("ben", T0 + timedelta(days=7), T0 + timedelta(days=8), ROTATION),
    ]
    assert who_is_on_call(sched, start).source == OVERRIDE


def test_an_override_covers_even_where_no_rotation_does(people):
    _, _, cat, _ = people
    sched = schedule()
    factories.override(sched, cat, T0, T0 + timedelta(hours=4))

    shift = who_is_on_call(sched, T0 + timedelta(hours=1))

    assert (shift.user, shift.source, shift.rotation_id) == (cat, OVERRIDE, None)


def test_the_latest_override_wins_where_overrides_overlap(people):
    ann, _, cat, dan = people
    sched = schedule()
    rotation(sched, [ann])
    factories.override(sched, cat, T0, T0 + timedelta(hours=10))
    factories.override(sched, dan, T0 + timedelta(hours=4), T0 + timedelta(hours=6))

    items = shifts(sched, T0, T0 + timedelta(hours=12))

    assert spans(items) == [
        ("cat", T0, T0 + timedelta(hours=4), OVERRIDE),
        ("dan", T0 + timedelta(hours=4), T0 + timedelta(hours=6), OVERRIDE),
        ("cat", T0 + timedelta(hours=6), T0 + timedelta(hours=10), OVERRIDE),
        ("ann", T0 + timedelta(hours=10), T0 + timedelta(hours=12), ROTATION),
    ]


def test_adjacent_shifts_of_one_person_from_one_source_merge(people):
    ann, *_ = people
    sched = schedule()
    rotation(sched, [ann])  # a daily rotation of one person
    factories.override(sched, ann, T0 + timedelta(days=3), T0 + timedelta(days=4))

    items = shifts(sched, T0, T0 + timedelta(days=5))

    assert spans(items) == [
        ("ann", T0, T0 + timedelta(days=3), ROTATION),
        ("ann", T0 + timedelta(days=3), T0 + timedelta(days=4), OVERRIDE),
        ("ann", T0 + timedelta(days=4), T0 + timedelta(days=5), ROTATION),
    ]


def test_shifts_are_clipped_to_the_window_and_filtered_by_person(people):
    ann, ben, *_ = people
    sched = schedule()
    rotation(sched, [ann, ben])
    start, end = T0 + timedelta(hours=12), T0 + timedelta(days=3, hours=1)

    everyone = shifts(sched, start, end)
    bens = shifts(sched, start, end, user=ben)

    assert everyone[0].starts_at == start and everyone[-1].ends_at == end
    assert [s.user for s in everyone] == [ann, ben, ann, ben]
    assert spans(bens) == [
        ("ben", T0 + timedelta(days=1), T0 + timedelta(days=2), ROTATION),
        ("ben", T0 + timedelta(days=3), end, ROTATION),
    ]


def test_naive_times_are_refused(people):
    sched = schedule()

    with pytest.raises(ValueError, match="at must be timezone-aware"):
        who_is_on_call(sched, datetime(2026, 1, 1))


# --- the fast path against a naive walk --------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/Santiago",
]


def _naive_reference(rot: Rotation, users, zone: ZoneInfo, start, end):
    """Walk every hand-off from the first one (slow, obviously right)."""
    out = []
    n, begin = 0, rot.starts_at
    local_start = rot.starts_at.astimezone(zone).replace(tzinfo=None)
    step = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}.get(rot.interval)
    while begin < end:
        n += 1
        if step is None:
            finish = rot.starts_at + n * timedelta(hours=rot.shift_hours)
        else:
            finish = (local_start + n * step).replace(tzinfo=zone).astimezone(UTC)
        if rot.ends_at:
            finish = min(finish, rot.ends_at)
        low, high = max(begin, start), min(finish, end)
        if low < high:
            user = users[(n - 1) % len(users)]
            if out and out[-1][0] == user.username and out[-1][2] == low:
                out[-1] = (out[-1][0], out[-1][1], high)
            else:
                out.append((user.username, low, high))
        if rot.ends_at and finish >= rot.ends_at:
            break
        begin = finish
    return out


def test_far_future_windows_match_a_naive_walk_from_the_first_hand_off(people):
    rng = random.Random(20261128)  # fixed: a failure can be replayed
    for case in range(40):
        zone_name = rng.choice(ZONES)
        sched = schedule(f"Random {case}", time_zone=zone_name)
        interval = rng.choice(["daily", "weekly", "custom"])
        starts_at = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(
            days=rng.randrange(0, 2000), minutes=rng.randrange(0, 24 * 60)
        )
        ends_at = starts_at + timedelta(days=rng.randrange(400, 5000)) if case % 3 == 0 else None
        members = rng.sample(people, rng.randint(1, len(people)))
        rot = rotation(
            sched,
            members,
            interval=interval,
            starts_at=starts_at,
            ends_at=ends_at,
            shift_hours=rng.choice([1, 5, 8, 12, 24, 36, 168]),
        )
        start = starts_at + timedelta(days=rng.randrange(-30, 4000), minutes=rng.randrange(1440))
        end = start + timedelta(hours=rng.randrange(1, 24 * 60))

        expected = _naive_reference(rot, members, ZoneInfo(zone_name), start, end)
        got = [(s.user.username, s.starts_at, s.ends_at) for s in shifts(sched, start, end)]

        assert got == expected, (case, zone_name, interval, starts_at, start, end)


def test_a_window_centuries_ahead_is_computed_without_walking_there(people):
    ann, ben, *_ = people
    sched = berlin_turns(people, datetime(1970, 1, 1, tzinfo=UTC), interval="custom", shift_hours=1)
    rotation(
        sched,
        [ben, ann],
        interval="daily",
        priority=1,
        starts_at=datetime(1970, 1, 1, 9, tzinfo=BERLIN),
        ends_at=None,
        name="Daily",
    )
    start = datetime(2900, 6, 1, tzinfo=UTC)

    began = time.perf_counter()
    items = shifts(sched, start, start + timedelta(days=2))
    elapsed = time.perf_counter() - began

    # Walking 8 million hourly hand-offs would take many seconds.
    assert elapsed < 0.5
    assert [s.starts_at.astimezone(BERLIN).hour for s in items[1:]] == [9, 9]


# --- several schedules, people to page ---------------------------------------------------


def test_schedules_oncall_covers_every_schedule_in_four_queries(people, django_assert_num_queries):
    ann, ben, cat, dan = people
    first = schedule("Alpha")
    rotation(first, [ann, ben])
    factories.override(first, dan, T0, T0 + timedelta(hours=2))
    with django_assert_num_queries(4):
        few = schedules_oncall(T0 + timedelta(hours=1))
    for n in range(6):
        sched = schedule(f"More {n}")
        rotation(sched, [cat, ann])
        factories.override(sched, ben, T0, T0 + timedelta(hours=3))

    with django_assert_num_queries(4):
        many = dict(schedules_oncall(T0 + timedelta(hours=1)))

    assert len(many) == len(few) + 6
    assert many[first].user == dan
    # The guide's role schedules exist too, with nobody on call yet.
    assert many[Schedule.objects.get(slug="on-call-engineer")] is None


def test_people_for_a_level_are_the_on_call_person_the_user_and_the_group(people):
    ann, ben, cat, dan = people
    sched = schedule()
    rotation(sched, [ann])
    group = Group.objects.create(name="Leads")
    group.user_set.add(dan, cat, ann)
    cat.is_active = False
    cat.save(update_fields=["is_active"])

    got = people_for(schedule=sched, user=ben, group=group, at=T0 + timedelta(hours=1))

    assert got == [ann, ben, dan]  # ann once; cat inactive


def test_people_for_an_empty_schedule_is_nobody(people):
    assert people_for(schedule=schedule(), user=None, group=None, at=T0) == []


# --- validation (the services' rules; every entry point calls them) ----------------------


def test_a_custom_rotation_needs_shift_hours(people):
    with pytest.raises(DomainError) as exc:
        services.rotation_create(
            actor=None, schedule=schedule(), name="x", interval="custom", starts_at=T0
        )

    assert exc.value.field == "shift_hours"
    assert not Rotation.objects.exists()


def test_a_rotation_must_end_after_it_starts(people):
    with pytest.raises(DomainError) as exc:
        services.rotation_create(
            actor=None, schedule=schedule(), name="x", interval="daily", starts_at=T0, ends_at=T0
        )

    assert (exc.value.field, exc.value.message) == ("ends_at", "ends_at must be after starts_at.")


def test_a_schedule_needs_an_iana_time_zone(db):
    with pytest.raises(DomainError) as exc:
        services.schedule_create(actor=None, name="x", time_zone="Mars/Olympus_Mons")

    assert exc.value.field == "time_zone"
    assert not Schedule.objects.filter(name="x").exists()
    made = services.schedule_create(
        actor=None, name="y", time_zone="America/Argentina/Buenos_Aires"
    )
    assert (made.slug, made.time_zone) == ("y", "America/Argentina/Buenos_Aires")


def test_an_override_must_end_after_it_starts(people):
    manager = factories.manager("mia")

    with pytest.raises(DomainError) as exc:
        services.override_add(
            actor=manager, schedule=schedule(), user=people[0], starts_at=T0, ends_at=T0
        )

    assert exc.value.field == "ends_at"
    assert not Override.objects.exists()
