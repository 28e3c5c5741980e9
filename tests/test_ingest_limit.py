"""The ingestion rate limit (``incidents.api.ingest_limit``): never more
than ``rate_limit_per_minute`` requests in a minute, counted in Redis in
leases so that most requests cost no round trip; a cache outage lets
alerts through."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from incidents.api.ingest_limit import lease_size, retry_after_if_limited
from incidents.models import Integration
from incidents.services.integrations import integration_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Five seconds into a minute, so a test's requests stay in one window.
T0 = datetime(2026, 11, 28, 9, 30, 5, tzinfo=UTC)


def limited(limit: int) -> Integration:
    integration, _ = integration_create(
        actor=None, name="prom", kind="generic", rate_limit_per_minute=limit
    )
    return integration


def let_through(integration: Integration, requests: int) -> int:
    return sum(retry_after_if_limited(integration) is None for _ in range(requests))


def counter(integration: Integration) -> int | None:
    window = int(T0.timestamp() // 60)
    return cache.get(f"ingest-rate:{integration.pk}:{window}")


@pytest.mark.parametrize("limit", [1, 5, 99, 300, 1250])
def test_no_more_than_the_limit_gets_through_in_a_minute(limit):
    integration = limited(limit)

    assert let_through(integration, limit + 20) == limit
    assert retry_after_if_limited(integration) == 55  # until the minute ends


def test_a_limit_is_taken_from_the_shared_counter_a_lease_at_a_time():
    integration = limited(1000)
    assert lease_size(1000) == 10

    let_through(integration, 1)
    assert counter(integration) == 10  # one lease took ten requests' worth
    let_through(integration, 9)
    assert counter(integration) == 10  # spent locally
    let_through(integration, 1)
    assert counter(integration) == 20


def test_a_limit_under_a_hundred_is_counted_request_by_request():
    integration = limited(50)

    let_through(integration, 7)

    assert lease_size(50) == 1 and counter(integration) == 7


def test_the_next_minute_starts_afresh(frozen):
    integration = limited(3)
    assert let_through(integration, 5) == 3

    frozen.shift(timedelta(minutes=1))

    assert let_through(integration, 5) == 3


def test_a_cache_outage_lets_alerts_through_and_says_so(settings, caplog):
    integration = limited(1)
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
        }
    }

    with caplog.at_level(logging.WARNING, logger="incidents.api.ingest_limit"):
        assert let_through(integration, 3) == 3

    assert "rate limiter unavailable" in caplog.text
