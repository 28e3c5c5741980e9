"""One spelling of a duration for messages, breach notes, the admin and the
dashboard's clocks (incidents/durations.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents.durations import duration
from incidents.templatetags.incident_ui import duration_short, span

SPOKEN = [
    (0, "0 s"),
    (45, "45 s"),
    (120, "2 min"),
    (130, "2 min 10 s"),
    (3600, "1 h"),
    (3660, "1 h 1 min"),
    (5400, "1 h 30 min"),
    (86400, "1 d"),
    (86400 + 3 * 3600 + 59, "1 d 3 h"),
]

# The spelling static/js/clocks.js ticks on: its ``span(seconds, precise)``.
COMPACT = [
    (45, "45s", "45s"),
    (130, "2m 10s", "2m"),
    (120, "2m 00s", "2m"),
    (3900, "1h 05m", "1h 05m"),
    (3600, "1h 00m", "1h 00m"),
    (2 * 86400 + 4 * 3600 + 30, "2d 4h", "2d 4h"),
    (86400, "1d 0h", "1d 0h"),
]


@pytest.mark.parametrize(("seconds", "spoken"), SPOKEN)
def test_spoken_durations_name_the_two_largest_units_leaving_out_a_zero(seconds, spoken):
    assert duration(seconds) == spoken


@pytest.mark.parametrize(("seconds", "precise", "rough"), COMPACT)
def test_compact_durations_match_the_ticking_clocks(seconds, precise, rough):
    assert duration(seconds, compact=True) == precise
    assert duration(seconds, compact=True, precise=False) == rough
    # Overdue clocks count negative seconds the same way.
    assert duration(-seconds, compact=True) == precise


def test_no_duration_is_a_dash():
    assert duration(None) == "—"
    assert span(None) == "—"


def test_the_template_filters_say_it_the_clocks_way():
    assert span(timedelta(hours=1, minutes=5, seconds=9)) == "1h 05m"
    assert duration_short(130.7) == "2m"
    assert duration_short(None) == "0s"
