"""The Django admin for managers: every model reachable, the timeline
read-only for everyone, policies, tokens and integrations saved through their
services. Incidents in the admin: ``test_admin_incidents.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory

from incidents import services
from incidents.models import (
    AlertGroupKey,
    Channel,
    ContactMethod,
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    Integration,
    Notification,
    Override,
    Role,
    Schedule,
    Service,
    SeverityPolicy,
    SlaBreach,
    TimelineEvent,
)
from tests import factories
from tests.admin_support import (
    T0,
    form_data,
    form_errors,
    messages_of,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

INCIDENT_MODELS = sorted(
    (m for m in apps.get_app_config("incidents").get_models()), key=lambda m: m.__name__
)


@pytest.fixture
def one_of_everything(alice, bob):
    """A row of every model in incidents.models, made the way the app makes them."""
    incident = factories.declare(actor=bob, severity="P0")
    services.incident_assign_role(incident=incident, actor=bob, role=Role.COMMANDER, user=bob)
    services.incident_post_update(incident=incident, actor=bob, message="Looking", status=None)
    services.timeline_mark(actor=bob, event=incident.timeline.first(), kind="detection")
    services.api_token_create(actor=bob, user=bob, name="laptop")
    alert = factories.alert(incident, title="HighErrorRate", manager=alice, action="opened")
    AlertGroupKey.objects.create(
        integration=alert.integration, fingerprint=alert.fingerprint, incident=incident
    )

    # On-call and notifications (schedules and escalation policies are seeded).
    schedule = Schedule.objects.get(slug="on-call-engineer")
    factories.rotation(schedule, [bob], starts_at=T0)

    Override.objects.create(
        schedule=schedule, user=alice, starts_at=T0, ends_at=T0 + timedelta(hours=4), reason="Swap"
    )
    ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    channel = Channel.objects.create(
        name="#incidents", kind="slack", target="https://hooks.slack.example/x", severities=["P0"]
    )
    Notification.objects.create(
        idempotency_key="admin:1",
        incident=incident,
        channel=channel,
        transport="slack",
        target=channel.target,
        message_kind="initial",
        created_at=T0,
        next_attempt_at=T0,
    )
    deadline = Deadline.objects.filter(incident=incident).first()
    SlaBreach.objects.create(
        incident=incident,
        deadline=deadline,
        kind=deadline.kind,
        severity="P0",
        due_at=deadline.due_at,
        detected_at=T0,
    )
    return incident


# --- who gets in ----------------------------------------------------------------


def test_every_model_of_incidents_is_in_the_admin():
    missing = [m.__name__ for m in INCIDENT_MODELS if m not in admin.site._registry]

    assert missing == []


@pytest.mark.parametrize("model", INCIDENT_MODELS, ids=lambda m: m.__name__)
def test_alice_can_open_every_changelist_and_change_page(
    admin_client_for, one_of_everything, model
):
    assert model.objects.exists(), f"no {model.__name__} to open"
    obj = model.objects.first()

    changelist = admin_client_for.get(url(model, "changelist"))
    change = admin_client_for.get(url(model, "change", obj.pk))

    assert changelist.status_code == 200
    assert change.status_code == 200


@pytest.mark.parametrize(
    "model",
    [
        Incident,
        Service,
        SeverityPolicy,
        *[m for m in INCIDENT_MODELS if m.__name__ in ("ApiToken", "Integration")],
    ],
    ids=lambda m: m.__name__,
)
def test_alice_can_open_the_add_pages(admin_client_for, model):
    if model is SeverityPolicy:
        SeverityPolicy.objects.filter(severity="P3").delete()  # only to restore a missing one

    assert admin_client_for.get(url(model, "add")).status_code == 200


def test_a_policy_cannot_be_added_while_all_four_exist(admin_client_for):
    assert admin_client_for.get(url(SeverityPolicy, "add")).status_code == 403


@pytest.mark.parametrize("who", ["bob", "vera", "charlie"])
@pytest.mark.parametrize("path", ["/admin/", "/admin/incidents/incident/"])
def test_responders_viewers_and_strangers_cannot_reach_the_admin(
    request, client, incident, who, path
):
    client.force_login(request.getfixturevalue(who))

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- the timeline is read-only --------------------------------------------------------


def test_the_timeline_admin_allows_no_add_change_or_delete_even_for_superusers(incident):
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    request = RequestFactory().get("/admin/")
    request.user = root
    model_admin = admin.site._registry[TimelineEvent]
    event = TimelineEvent.objects.get(incident=incident, kind=EventKind.DECLARED)

    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_the_timeline_cannot_be_edited_through_admin_urls(admin_client_for, incident):
    event = TimelineEvent.objects.get(incident=incident, kind=EventKind.DECLARED)

    add = admin_client_for.get(url(TimelineEvent, "add"))
    change = admin_client_for.post(url(TimelineEvent, "change", event.pk), {"message": "x"})
    delete = admin_client_for.post(url(TimelineEvent, "delete", event.pk), {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    event.refresh_from_db()
    assert event.message.startswith("Declared")


# --- policies, tokens, integrations ---------------------------------------------------


def test_a_policy_edited_in_the_admin_applies_to_new_incidents(admin_client_for, bob):
    policy = SeverityPolicy.objects.get(severity="P1")
    page = admin_client_for.get(url(SeverityPolicy, "change", policy.pk))
    data = form_data(page)
    data.update(ack_target_seconds="120", notify_channels=["slack", "pagerduty"])

    response = admin_client_for.post(url(SeverityPolicy, "change", policy.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.notify_channels == ["slack", "pagerduty"]
    incident = factories.declare(actor=bob, severity="P1")
    ack = Deadline.objects.get(incident=incident, kind=DeadlineKind.ACKNOWLEDGE)
    assert ack.due_at == T0 + timedelta(minutes=2)


def test_a_policy_cannot_have_both_a_fixed_and_a_next_business_day_target(admin_client_for):
    policy = SeverityPolicy.objects.get(severity="P3")
    page = admin_client_for.get(url(SeverityPolicy, "change", policy.pk))
    data = form_data(page)
    data.update(ack_target_seconds="600")

    response = admin_client_for.post(url(SeverityPolicy, "change", policy.pk), data)

    assert form_errors(response) == {
        "ack_target_seconds": [
            "Choose either an acknowledge target in seconds or 'next business day', not both."
        ]
    }
    policy.refresh_from_db()
    assert (policy.ack_target_seconds, policy.ack_next_business_day) == (None, True)


def test_an_api_token_added_in_the_admin_shows_its_key_once(admin_client_for, alice):
    token_model = apps.get_model("incidents", "ApiToken")

    response = admin_client_for.post(
        url(token_model, "add"), {"user": alice.pk, "name": "ci", "scopes": ["read"]}
    )

    assert response.status_code == 302
    [message] = [m for m in messages_of(response) if "not shown again" in m]
    key = message.rsplit(" ", 1)[-1]
    token = services.api_token_lookup(key)
    assert (token.user, token.name, token.scopes) == (alice, "ci", ["read"])
    assert key not in token.key_hash
    assert not any(key in m for m in messages_of(response) if m != message)


def add_grafana(client, **fields):
    """Post the admin's add page of an integration: Grafana, with ``fields``."""
    form = {"name": "Grafana", "kind": "grafana", "rate_limit_per_minute": "600", **fields}
    return client.post(url(Integration, "add"), form)


def test_an_integration_added_in_the_admin_shows_its_webhook_url_once(admin_client_for, alice):
    response = add_grafana(
        admin_client_for,
        severity_mapping='{"Critical": "P0"}',
        auto_acknowledge="on",
        enabled="on",
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    [message] = [m for m in messages_of(response) if "not shown again" in m]
    webhook = message.rsplit(" ", 1)[-1]
    key = webhook.split("/api/v1/integrations/")[1].split("/")[0]
    integration = services.integration_sender(key)
    assert webhook == f"{settings.SITE_URL}/api/v1/integrations/{key}/grafana/"
    assert (integration.created_by, integration.severity_mapping, integration.auto_resolve) == (
        alice,
        {"critical": "P0"},
        False,
    )


def test_an_integration_rejects_a_severity_mapping_to_an_unknown_level(admin_client_for):
    response = add_grafana(admin_client_for, severity_mapping='{"critical": "SEV1"}')

    assert "must be one of P0, P1, P2, P3" in str(form_errors(response)["severity_mapping"])
    assert not Integration.objects.exists()
