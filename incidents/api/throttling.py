"""API rate limits read from settings at request time.

DRF's own throttles copy ``DEFAULT_THROTTLE_RATES`` into a class attribute
when they are imported, so a rate changed later (``override_settings`` in a
test, a settings reload) would be ignored. These read ``API_RATE_USER`` and
``API_RATE_ANON`` each time a request is checked; counts live in the shared
cache (Redis), so every web process enforces the same limit.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    """Per signed-in user (token or session), ``settings.API_RATE_USER``."""

    def get_rate(self) -> str:
        return settings.API_RATE_USER


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Per client address for anonymous calls, ``settings.API_RATE_ANON``."""

    def get_rate(self) -> str:
        return settings.API_RATE_ANON
