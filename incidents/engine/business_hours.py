"""Business days for the guide's P3 "next business day" response time.

Configured by ``BUSINESS_HOURS_START``/``BUSINESS_HOURS_END`` (``HH:MM``),
``BUSINESS_DAYS`` (ISO weekdays, ``1,2,3,4,5``), ``BUSINESS_TIME_ZONE`` and
``BUSINESS_HOLIDAYS`` (``YYYY-MM-DD`` list) in settings.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def _config() -> tuple[ZoneInfo, time, time, set[int], set[date]]:
    zone = ZoneInfo(getattr(settings, "BUSINESS_TIME_ZONE", "UTC"))
    start = time.fromisoformat(getattr(settings, "BUSINESS_HOURS_START", "09:00"))
    end = time.fromisoformat(getattr(settings, "BUSINESS_HOURS_END", "17:00"))
    days = set(getattr(settings, "BUSINESS_DAYS", (1, 2, 3, 4, 5)))
    holidays = {date.fromisoformat(d) for d in getattr(settings, "BUSINESS_HOLIDAYS", ())}
    return zone, start, end, days, holidays


def is_business_day(day: date) -> bool:
    _, _, _, days, holidays = _config()
    return day.isoweekday() in days and day not in holidays


def next_business_day_end(moment: datetime) -> datetime:
    """The close of business on the first business day after ``moment``'s day.

    Something reported on Friday evening is due by Monday's close; something
    reported on Monday morning is due by Tuesday's close.
    """
    zone, _, end, _, _ = _config()
    day = moment.astimezone(zone).date() + timedelta(days=1)
    for _ in range(366):
        if is_business_day(day):
            return datetime.combine(day, end, tzinfo=zone)
        day += timedelta(days=1)
    raise ValueError("No business day within a year: check BUSINESS_DAYS and BUSINESS_HOLIDAYS.")
