"""The Django admin for managers: every model reachable, incident changes
through the services, the timeline read-only for everyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse

from incidents import services
from incidents.admin import FALSE_POSITIVE_ROOT_CAUSE, AssignRoleForm, PostUpdateForm
from incidents.models import (
    Alert,
    AlertGroupKey,
    Channel,
    ContactMethod,
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    Notification,
    Override,
    ReferenceCounter,
    Role,
    RoleAssignment,
    Rotation,
    RotationMember,
    Schedule,
    Service,
    SeverityPolicy,
    SlaBreach,
    StatusUpdate,
    TimelineEvent,
)
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
INCIDENT_MODELS = sorted(
    (m for m in apps.get_app_config("incidents").get_models()), key=lambda m: m.__name__
)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def admin_client_for(client, alice):
    client.force_login(alice)
    return client


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def events(incident: Incident, kind: str) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(incident=incident, kind=kind).order_by("at", "id"))


def form_data(response) -> dict:
    """The POST body a browser would send for the change form as rendered:
    the main form's values plus every inline's management form and rows."""
    data: dict = {}

    def add(form) -> None:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for form in formset.forms:
            add(form)
    return data


def inline_prefix(response, form_class) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if issubclass(inline.formset.form, form_class):
            return inline.formset.prefix
    raise AssertionError(f"no inline with {form_class.__name__}")


@pytest.fixture
def one_of_everything(alice, bob):
    """A row of every model in incidents.models, made the way the app makes them."""
    incident = factories.declare(actor=bob, severity="P0")
    services.incident_assign_role(incident=incident, actor=bob, role=Role.COMMANDER, user=bob)
    services.incident_post_update(incident=incident, actor=bob, message="Looking", status=None)
    services.api_token_create(actor=bob, user=bob, name="laptop")
    integration, _ = services.integration_create(
        actor=alice, name="Prometheus", kind="alertmanager"
    )
    Alert.objects.create(
        integration=integration,
        kind="alertmanager",
        fingerprint="abc",
        occurrence_key="abc-1",
        status="firing",
        title="HighErrorRate",
        received_at=T0,
        raw={},
        incident=incident,
        action="opened",
    )
    AlertGroupKey.objects.create(integration=integration, fingerprint="abc", incident=incident)
    # On-call and notifications (schedules and escalation policies are seeded).
    schedule = Schedule.objects.get(slug="on-call-engineer")
    rotation = Rotation.objects.create(
        schedule=schedule, name="Weekly", starts_at=T0, interval="weekly"
    )
    RotationMember.objects.create(rotation=rotation, user=bob, position=0)
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


# --- bulk actions -----------------------------------------------------------------


def run_action(client, action: str, incidents: list[Incident]):
    return client.post(
        url(Incident, "changelist"),
        {"action": action, "_selected_action": [i.pk for i in incidents]},
    )


def test_acknowledge_action_acknowledges_through_the_service(admin_client_for, alice, bob):
    fresh = factories.declare(actor=bob, title="Fresh")
    seen = factories.declare(actor=bob, title="Seen")
    services.incident_acknowledge(incident=seen, actor=bob)

    response = run_action(admin_client_for, "acknowledge_selected", [fresh, seen])

    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.acknowledged_at == T0
    [event] = events(fresh, EventKind.ACKNOWLEDGED)
    assert event.actor == alice
    assert Deadline.objects.get(incident=fresh, kind=DeadlineKind.ACKNOWLEDGE).met_at == T0
    assert [e.actor for e in events(seen, EventKind.ACKNOWLEDGED)] == [bob]
    assert messages_of(response) == [
        f"{seen.ref}: {seen.ref} is already acknowledged.",
        f"Acknowledged 1: {fresh.ref}.",
    ]


def test_resolve_action_resolves_as_false_positive_through_the_service(
    admin_client_for, alice, bob
):
    noisy = factories.declare(actor=bob, title="Flapping disk alert")
    done = factories.declare(actor=bob, title="Done")
    services.incident_resolve(incident=done, actor=bob, root_cause="Real cause")

    response = run_action(admin_client_for, "resolve_as_false_positive", [noisy, done])

    noisy.refresh_from_db()
    assert (noisy.status, noisy.false_positive, noisy.root_cause, noisy.resolved_at) == (
        "resolved",
        True,
        FALSE_POSITIVE_ROOT_CAUSE,
        T0,
    )
    [event] = events(noisy, EventKind.RESOLVED)
    assert event.actor == alice
    done.refresh_from_db()
    assert (done.root_cause, done.false_positive) == ("Real cause", False)
    assert f"{done.ref}: {done.ref} is already resolved." in messages_of(response)


def test_staff_without_the_respond_permission_are_not_offered_the_actions(client, incident):
    reader = factories.viewer("reader")
    reader.is_staff = True
    reader.save(update_fields=["is_staff"])
    client.force_login(reader)

    response = client.get(url(Incident, "changelist"))
    refused = run_action(client, "acknowledge_selected", [incident])

    assert response.status_code == 200
    assert b"acknowledge_selected" not in response.content
    incident.refresh_from_db()
    assert refused.status_code == 200  # "no action selected", nothing done
    assert incident.acknowledged_at is None


# --- adding and editing an incident --------------------------------------------------


def test_adding_an_incident_declares_it_through_the_service(admin_client_for, alice, bob):
    api = Service.objects.create(name="api")

    response = admin_client_for.post(
        url(Incident, "add"),
        {
            "title": "Payments failing",
            "severity": "P0",
            "source": "user_report",
            "detected_at_0": "2026-11-25",
            "detected_at_1": "09:58:00",
            "commander": bob.pk,
            "services": [api.pk],
            "summary": "Card payments time out",
            "impact": "No orders",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get()
    assert incident.ref == "INC-20261125-001"
    assert response["Location"] == url(Incident, "changelist")
    assert (incident.declared_by, incident.detected_at, incident.source) == (
        alice,
        T0 - timedelta(minutes=2),
        "user_report",
    )
    assert incident.commander == bob
    assert list(incident.services.all()) == [api]
    [declared] = events(incident, EventKind.DECLARED)
    assert declared.actor == alice
    ack = Deadline.objects.get(incident=incident, kind=DeadlineKind.ACKNOWLEDGE)
    assert ack.due_at == incident.detected_at + timedelta(minutes=5)


def test_adding_an_incident_without_detection_time_means_now(admin_client_for):
    response = admin_client_for.post(
        url(Incident, "add"), {"title": "Slow search", "severity": "P2", "source": "anomaly"}
    )

    assert response.status_code == 302
    assert Incident.objects.get().detected_at == T0


def test_adding_an_incident_detected_in_the_future_shows_the_error_and_writes_nothing(
    admin_client_for,
):
    response = admin_client_for.post(
        url(Incident, "add"),
        {
            "title": "From the future",
            "severity": "P1",
            "source": "team_member",
            "detected_at_0": "2026-11-26",
            "detected_at_1": "10:00:00",
        },
    )

    # At the field, with the input kept (the service's check, timebounds).
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"detected_at": ["This time is in the future."]}
    assert form["title"].value() == "From the future"
    assert Incident.objects.count() == TimelineEvent.objects.count() == 0
    assert ReferenceCounter.objects.count() == 0


def test_the_change_form_edits_details_through_the_service_and_ignores_state_fields(
    admin_client_for, alice, incident
):
    page = admin_client_for.get(url(Incident, "change", incident.pk))
    data = form_data(page)
    data.update(
        title="Checkout API down",
        severity="P0",
        status="resolved",
        ref="INC-19990101-999",
        acknowledged_at_0="2026-11-25",
    )

    response = admin_client_for.post(url(Incident, "change", incident.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.title == "Checkout API down"
    assert (incident.ref, incident.severity, incident.status, incident.acknowledged_at) == (
        "INC-20261125-001",
        "P1",
        "investigating",
        None,
    )
    [event] = events(incident, EventKind.FIELDS_CHANGED)
    assert event.actor == alice
    assert event.after == {"title": "Checkout API down"}


def test_state_fields_are_read_only_in_the_change_form(admin_client_for, incident):
    page = admin_client_for.get(url(Incident, "change", incident.pk))

    editable = set(page.context["adminform"].form.fields)
    assert editable == {"title", "summary", "impact", "services", "customer_impacting"}


def test_the_role_inline_hands_over_command_through_the_service(
    admin_client_for, alice, bob, incident
):
    services.incident_assign_role(incident=incident, actor=bob, role=Role.COMMANDER, user=bob)
    page = admin_client_for.get(url(Incident, "change", incident.pk))
    data = form_data(page)
    prefix = inline_prefix(page, AssignRoleForm)
    data.update({f"{prefix}-0-role": Role.COMMANDER, f"{prefix}-0-user": alice.pk})

    response = admin_client_for.post(url(Incident, "change", incident.pk), data)

    assert response.status_code == 302
    history = RoleAssignment.objects.filter(incident=incident, role=Role.COMMANDER)
    assert [(a.user, a.relieved_at) for a in history] == [(bob, T0), (alice, None)]
    event = events(incident, EventKind.ROLE_ASSIGNED)[-1]
    assert (event.actor, event.before, event.after) == (
        alice,
        {"role": "commander", "user": "bob"},
        {"role": "commander", "user": "alice"},
    )


def test_the_update_inline_posts_through_the_service(admin_client_for, alice, incident):
    page = admin_client_for.get(url(Incident, "change", incident.pk))
    data = form_data(page)
    prefix = inline_prefix(page, PostUpdateForm)
    data.update(
        {
            f"{prefix}-0-message": "Fix deployed",
            f"{prefix}-0-status": "monitoring",
            f"{prefix}-0-visibility": "public",
        }
    )

    response = admin_client_for.post(url(Incident, "change", incident.pk), data)

    assert response.status_code == 302
    update = StatusUpdate.objects.get(incident=incident)
    assert (update.author, update.status, update.visibility) == (alice, "monitoring", "public")
    assert events(incident, EventKind.UPDATE_POSTED)[0].actor == alice
    incident.refresh_from_db()
    assert incident.status == "monitoring"


def test_an_illegal_inline_change_is_reported_and_rolls_back_the_whole_form(
    admin_client_for, vera, incident
):
    page = admin_client_for.get(url(Incident, "change", incident.pk))
    data = form_data(page)
    prefix = inline_prefix(page, AssignRoleForm)
    data.update(
        {"title": "Renamed", f"{prefix}-0-role": Role.COMMANDER, f"{prefix}-0-user": vera.pk}
    )
    events_before = TimelineEvent.objects.count()

    response = admin_client_for.post(url(Incident, "change", incident.pk), data)

    assert response.status_code == 302
    assert messages_of(response) == [
        "vera is not a responder; only responders can hold incident roles."
    ]
    incident.refresh_from_db()
    assert incident.title == "Checkout API returning 500s"
    assert TimelineEvent.objects.count() == events_before
    assert not RoleAssignment.objects.filter(incident=incident).exists()


def test_a_resolved_incident_offers_no_role_or_update_rows_until_reopened(
    admin_client_for, bob, incident
):
    services.incident_resolve(incident=incident, actor=bob, root_cause="Disk full")

    page = admin_client_for.get(url(Incident, "change", incident.pk))

    assert page.status_code == 200
    forms = [inline.formset.form for inline in page.context["inline_admin_formsets"]]
    assert not any(issubclass(f, AssignRoleForm | PostUpdateForm) for f in forms)


def test_relieve_action_relieves_through_the_service(admin_client_for, alice, bob, incident):
    services.incident_assign_role(incident=incident, actor=bob, role=Role.RESPONDER, user=bob)
    assignment = RoleAssignment.objects.get(incident=incident)

    response = admin_client_for.post(
        url(RoleAssignment, "changelist"),
        {"action": "relieve_selected", "_selected_action": [assignment.pk]},
    )

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.relieved_at == T0
    [event] = events(incident, EventKind.ROLE_RELIEVED)
    assert event.actor == alice


def test_incidents_cannot_be_deleted_in_the_admin(admin_client_for, incident):
    response = admin_client_for.post(url(Incident, "delete", incident.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


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

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
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


def test_an_integration_added_in_the_admin_shows_its_webhook_url_once(admin_client_for, alice):
    integration_model = apps.get_model("incidents", "Integration")

    response = admin_client_for.post(
        url(integration_model, "add"),
        {
            "name": "Grafana",
            "kind": "grafana",
            "severity_mapping": '{"Critical": "P0"}',
            "auto_acknowledge": "on",
            "enabled": "on",
            "rate_limit_per_minute": "600",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    [message] = [m for m in messages_of(response) if "not shown again" in m]
    webhook = message.rsplit(" ", 1)[-1]
    key = webhook.split("/api/v1/integrations/")[1].split("/")[0]
    integration = services.integration_lookup(key)
    assert webhook == f"{settings.SITE_URL}/api/v1/integrations/{key}/grafana/"
    assert (integration.created_by, integration.severity_mapping, integration.auto_resolve) == (
        alice,
        {"critical": "P0"},
        False,
    )


def test_an_integration_rejects_a_severity_mapping_to_an_unknown_level(admin_client_for):
    integration_model = apps.get_model("incidents", "Integration")

    response = admin_client_for.post(
        url(integration_model, "add"),
        {
            "name": "Grafana",
            "kind": "grafana",
            "severity_mapping": '{"critical": "SEV1"}',
            "rate_limit_per_minute": "600",
        },
    )

    assert response.status_code == 200
    assert "must be one of P0, P1, P2, P3" in str(
        response.context["adminform"].form.errors["severity_mapping"]
    )
    assert not integration_model.objects.exists()
