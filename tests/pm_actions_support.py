"""Fixtures of the action-item, tracker and ticket tests: a resolved P0's
post-mortem owned by alice (its commander), items owned by bob, and
trackers pointing at the local HTTP recorder (``http_recorder``). Test modules load them with
``pytest_plugins = ["tests.pm_actions_support"]``."""

from __future__ import annotations

from datetime import date

import pytest

from incidents import services
from postmortems import services as pm
from postmortems.models import Postmortem
from tests import factories
from tests.pm_actions_values import GITHUB_TOKEN, JIRA_TOKEN


@pytest.fixture
def postmortem(alice, bob) -> Postmortem:
    """The post-mortem of a resolved P0 whose commander is alice."""
    incident = factories.declare(actor=bob, severity="P0", title="Checkout down")
    services.incident_acknowledge(incident=incident, actor=bob)
    services.incident_assign_role(incident=incident, actor=bob, role="commander", user=alice)
    services.incident_resolve(
        incident=incident,
        actor=bob,
        root_cause="A connection pool of 10 for 40 workers",
        resolution="Pool raised to 50",
    )
    return Postmortem.objects.get(incident=incident)


@pytest.fixture
def item(postmortem, bob):
    """An open item owned by bob, due on Friday 27 November 2026."""
    return pm.action_item_add(
        actor=bob,
        postmortem=postmortem,
        title="Size the connection pool from the worker count",
        owner="bob",
        due_date=date(2026, 11, 27),
        priority="high",
    )


@pytest.fixture
def github(alice, http_recorder):
    return pm.tracker_create(
        actor=alice,
        kind="github",
        name="GitHub shop",
        base_url=http_recorder.url(""),
        project="acme/shop",
        token=GITHUB_TOKEN,
    )


@pytest.fixture
def jira(alice, http_recorder):
    return pm.tracker_create(
        actor=alice,
        kind="jira",
        name="Jira OPS",
        base_url=http_recorder.url("/jira"),
        project="OPS",
        username="treebeard@example.com",
        token=JIRA_TOKEN,
    )


@pytest.fixture
def webhook_tracker(alice, http_recorder):
    return pm.tracker_create(
        actor=alice, kind="webhook", name="Our tracker", base_url=http_recorder.url("/tickets")
    )


@pytest.fixture
def no_worker():
    """Tasks published on commit or as retries go nowhere: tests deliver by hand."""
    from treebeard_ir.celery import app

    yield
    app.control.purge()
