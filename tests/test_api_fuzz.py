"""Schemathesis over the OpenAPI schema, in-process: every operation of
``/api/schema/`` gets generated requests (valid and not) from a manager's
read+write token, and none may answer a 5xx.

Bounded so the suite keeps its time: a few examples per operation,
derandomized so a failure reproduces on every machine. The schema is loaded
from the WSGI app itself, so an operation added later is fuzzed too.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config._dictionaries import (  # pinned; no public constructor yet
    DictionaryBinding,
    DictionaryDefinition,
    DictionaryEntry,
)

from incidents.models import Channel, Integration, Override, Schedule
from incidents.services.tokens import api_token_create

pytestmark = pytest.mark.django_db

# FUZZ_EXAMPLES=200 for a deeper run by hand; the suite keeps to a bounded 20.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "20"))


HOSTILE = [
    "a\x00b",
    "\x00",
    "x" * 5000,
    "99999999999999999999999",
    "9" * 5000,
    "-99999999999999999999999",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "NaN",
    "%ff",
    "%",
    99999999999999999999999,
    -99999999999999999999999,
    2**63,
]


def _load_schema():
    """The schema the app serves at /api/schema/, generated in-process, with
    the WSGI app to send the cases to."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from treebeard_ir.wsgi import application

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = application
    # The coverage phase sends every boundary case the schema defines (many
    # hundreds of requests an operation): too slow for every run of the
    # suite. The bounded fuzzing below covers the same classes of input.
    loaded.config.phases.coverage.enabled = False
    # Random text rarely holds what breaks a server; mix in the classes of
    # hostile input the outsider used (bench/hostile_inputs.py) for strings
    # and integers, a fifth of the time, in bodies, queries and paths alike.
    loaded.config.dictionaries["hostile"] = DictionaryDefinition(
        name="hostile",
        entries=tuple(DictionaryEntry(value, index) for index, value in enumerate(HOSTILE)),
        source_kind="inline",
        source_path=None,
    )
    for kind in ("string", "integer"):
        loaded.config.generation.dictionaries[kind] = DictionaryBinding("hostile", 0.2)
    # Sends a real message to the channel's target and answers 502 by design
    # when the receiver refuses (tests/test_api_channels.py covers it).
    return loaded.exclude(path="/api/v1/channels/{id}/test/")


schema = _load_schema()


@pytest.fixture
def api_key(alice, bob, incident, settings) -> str:
    """A manager's read+write key, with one of each thing to address."""
    from datetime import UTC, datetime

    settings.API_RATE_USER = "100000/min"
    schedule = Schedule.objects.create(name="Primary", slug="primary", time_zone="Etc/GMT+12")
    Override.objects.create(
        schedule=schedule,
        user=bob,
        starts_at=datetime(2026, 12, 24, 9, tzinfo=UTC),
        ends_at=datetime(2026, 12, 25, 9, tzinfo=UTC),
    )
    Channel.objects.create(name="ops", kind="email", target="ops@treebeard.test")
    Integration.objects.create(name="Grafana", kind="grafana", token_hash="h" * 64)
    return api_token_create(actor=alice, user=alice, scopes=("read", "write"))[1]


@pytest.fixture
def wsgi_keeps_the_connection():
    """Django closes a connection that is inside a transaction (the test's
    own) when a request starts or ends; keep it, as Django's test client does."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_api_operation_answers_a_server_error(case, api_key, wsgi_keeps_the_connection):
    response = case.call(headers={"Authorization": f"Token {api_key}"})
    case.validate_response(response, checks=[not_a_server_error])
