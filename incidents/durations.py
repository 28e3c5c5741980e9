"""How long something lasts, said the same way wherever the portal says it.

One function, two spellings, because two kinds of reader need them:

- spoken (the default) for messages, SLA breach notes and the admin:
  "45 s", "2 min 10 s", "1 h", "4 h 5 min", "2 d 3 h";
- ``compact`` for the dashboard's clocks and ages, which
  ``static/js/clocks.js`` re-renders every second and must spell the same:
  "45s", "3m 12s", "1h 05m", "2d 4h".

Both name the two largest units and no more; a clock that only needs the
order of magnitude (an overdue clock, an age) passes ``precise=False`` to
drop the seconds once there is a whole minute.
"""

from __future__ import annotations

# Days, hours, minutes, seconds: their length and their names in each spelling.
UNIT_SECONDS = (86400, 3600, 60, 1)
SPOKEN_UNITS = (" d", " h", " min", " s")
COMPACT_UNITS = ("d", "h", "m", "s")
DAYS, MINUTES, SECONDS = 0, 2, 3
MISSING = "—"


def duration(seconds: float | None, *, compact: bool = False, precise: bool = True) -> str:
    """``seconds`` (a span, its sign ignored) in its two largest units.

    1. Split the whole seconds into days, hours, minutes and seconds.
    2. Start at the largest unit that is not zero (seconds when none is).
    3. Add the next smaller unit: spoken, only when it is not zero; compact,
       always, two digits under the hour ("1h 05m") — unless ``precise`` is
       off and the first unit is minutes.
    """
    if seconds is None:
        return MISSING
    rest = int(abs(seconds))
    amounts = []
    for size in UNIT_SECONDS:
        amount, rest = divmod(rest, size)
        amounts.append(amount)
    first = next((i for i in range(SECONDS) if amounts[i]), SECONDS)
    units = COMPACT_UNITS if compact else SPOKEN_UNITS
    text = f"{amounts[first]}{units[first]}"
    if first == SECONDS or (compact and not precise and first == MINUTES):
        return text
    second = amounts[first + 1]
    if not compact:
        return f"{text} {second}{units[first + 1]}" if second else text
    digits = "d" if first == DAYS else "02d"
    return f"{text} {second:{digits}}{units[first + 1]}"
