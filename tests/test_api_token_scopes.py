"""Scopes mean what they say (issue 9): every write operation of the API,
read from its own OpenAPI schema so a new endpoint is covered the day it is
added, refuses an ingest-only token (a manager's, too) and a viewer's or a
stranger's token whatever its scopes, and writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from incidents.models import Channel, Override, Schedule
from incidents.services import incident_resolve
from incidents.services.integrations import integration_create
from postmortems import services as pm
from postmortems.models import Postmortem, Tracker
from statuspage import services
from statuspage.services.subscribers import subscriber_add
from tests import factories
from tests.api_support import assert_json_error, token_client

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
ALL_SCOPES = ("read", "write", "ingest")
NEW_INCIDENT = {"title": "Checkout API returning 500s", "severity": "P1"}


def write_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in WRITE_METHODS
    )


WRITES = write_operations()


def test_the_schema_lists_every_kind_of_write():
    paths = {path for _, path in WRITES}

    assert len(WRITES) >= 25
    assert {
        "/api/v1/incidents/",
        "/api/v1/incidents/{ref}/acknowledge/",
        "/api/v1/severities/{severity}/",
        "/api/v1/integrations/{id}/rotate-token/",
        "/api/v1/schedules/{id}/overrides/{override_id}/",
        "/api/v1/channels/{id}/test/",
    } <= paths


@pytest.fixture
def world(alice, bob):
    """One of everything a write operation can address."""
    incident = factories.declare(actor=bob)
    integration, _ = integration_create(actor=alice, name="Prometheus", kind="alertmanager")
    schedule = Schedule.objects.create(name="Primary", slug="primary")
    factories.rotation(schedule, [bob], starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC))

    start = datetime.now(UTC) + timedelta(days=1)
    override = Override.objects.create(
        schedule=schedule, user=bob, starts_at=start, ends_at=start + timedelta(hours=4)
    )
    channel = Channel.objects.create(
        name="Ops mail", kind="email", target="ops@treebeard.test", severities=["P1"]
    )
    maintenance = services.maintenance_schedule(
        actor=bob,
        name="Database upgrade",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        message="Upgrading the database.",
    )
    # The status page's (statuspage/api/), addressed by their public ids.
    component = services.component_create(actor=alice, name="API")
    group = services.group_create(actor=alice, name="Core")
    public = services.incident_publish(
        actor=alice,
        incident=factories.declare(actor=bob),
        title="Errors",
        impact="minor",
        message="Looking",
    )
    # Post-mortems (postmortems/api/): a resolved P0 has one.
    resolved = factories.declare(actor=bob, severity="P0")
    incident_resolve(incident=resolved, actor=bob, root_cause="Pool too small")
    postmortem = Postmortem.objects.get(incident=resolved)
    item = pm.action_item_add(
        actor=bob, postmortem=postmortem, title="Fix", owner=bob, due_date=date.today()
    )
    tracker = Tracker.objects.create(
        kind="github",
        name="GH",
        base_url="https://api.github.com",
        project="a/b",
        token="t",
        created_at=start,
    )
    subscriber = subscriber_add(actor=alice, kind="email", address="ops@example.com")
    return {
        "/action-items/{id}/": f"/action-items/{item.pk}/",
        "/trackers/{id}/": f"/trackers/{tracker.pk}/",
        "/postmortems/{id}/": f"/postmortems/{postmortem.pk}/",
        "{event_id}": str(incident.timeline.first().pk),
        "/components/{id}/": f"/components/{component.code}/",
        "/component-groups/{id}/": f"/component-groups/{group.code}/",
        "/public-incidents/{id}/": f"/public-incidents/{public.code}/",
        "{ref}": incident.ref,
        "{severity}": "P1",
        "{override_id}": str(override.pk),
        "/integrations/{id}/": f"/integrations/{integration.pk}/",
        "/schedules/{id}/": f"/schedules/{schedule.pk}/",
        "/channels/{id}/": f"/channels/{channel.pk}/",
        "/maintenances/{id}/": f"/maintenances/{maintenance.code}/",
        "/status-subscribers/{id}/": f"/status-subscribers/{subscriber.code}/",
    }


def concrete(path: str, world: dict) -> str:
    for placeholder, value in world.items():
        path = path.replace(placeholder, value)
    assert "{" not in path, path
    return path


def body_for(method: str, path: str) -> dict:
    # A body that would declare: refused must mean refused, not invalid.
    return NEW_INCIDENT if (method, path) == ("post", "/api/v1/incidents/") else {}


def snapshot() -> dict:
    """Every row of the project's models (what any write would change), but
    a token's ``last_used_at``, which authentication itself refreshes."""
    rows = {}
    models = [
        *apps.get_app_config("incidents").get_models(),
        *apps.get_app_config("postmortems").get_models(),
    ]
    for model in models:
        values = model.objects.order_by("pk").values()
        rows[model.__name__] = [
            {k: v for k, v in row.items() if k != "last_used_at"} for row in values
        ]
    return rows


def call(client, method: str, url: str, body: dict):
    return getattr(client, method)(url, body, format="json")


# Who calls, with which scopes, and what the refusal says: the token's scope
# is checked first, then the person's group.
CALLERS = {
    # The most powerful person, with a token that may only post alerts.
    "manager-ingest-only": (factories.manager, ("ingest",), "the write scope"),
    # People who only read, with every scope a token can carry.
    "viewer-every-scope": (factories.viewer, ALL_SCOPES, "only reads"),
    "no-group-every-scope": (
        lambda: factories.UserFactory(username="charlie"),
        ALL_SCOPES,
        "only reads",
    ),
}


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_no_ingest_only_or_read_only_persons_token_writes(world, method, path):
    url = concrete(path, world)
    clients = {name: token_client(make(), *scopes) for name, (make, scopes, _) in CALLERS.items()}
    before = snapshot()

    for caller, client in clients.items():
        response = call(client, method, url, body_for(method, path))

        body = assert_json_error(response, 403)
        assert CALLERS[caller][2] in body["detail"], (caller, body)
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_a_managers_write_token_gets_past_the_permission_check_everywhere(
    world, alice, method, path
):
    """The control: the same requests are not refused for want of rights when
    the token may write, so the refusals above are the rules at work."""
    url = concrete(path, world)
    assert resolve(url).func.cls  # a DRF view, guarded by its permission classes

    response = call(token_client(alice, "read", "write"), method, url, body_for(method, path))

    assert response.status_code != 403, (response.status_code, response.content[:300])
    assert response.status_code < 500, (response.status_code, response.content[:300])
