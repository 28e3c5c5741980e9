"""Managing subscribers: ``/api/v1/status-subscribers/`` and its delivery
log (managers only), the outbound-address guard on webhook endpoints, the
audit log, and the admin page."""

from __future__ import annotations

import pytest

from incidents.models import AuditEntry
from statuspage import services
from statuspage.models import Subscriber
from tests.api_support import token_client
from tests.sp_subs_support import deliver_all, make_layout

pytestmark = pytest.mark.django_db

URL = "/api/v1/status-subscribers/"


@pytest.fixture
def layout(alice):
    return make_layout(alice)


def add(api, **body):
    return api.post(URL, body, format="json")


def test_a_manager_adds_an_email_subscriber_confirmed_at_once(manager_api, layout):
    response = add(
        manager_api, kind="email", address="Ann@Example.COM", components=[layout["api"].code]
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "email" and body["address"] == "Ann@example.com"
    assert body["components"] == [layout["api"].code]
    assert body["confirmed_at"] and body["created_at"]
    assert body["secret"] is None
    entry = AuditEntry.objects.get(action="subscriber_add")
    assert entry.entry_point == "api" and entry.after["address"] == "Ann@example.com"


def test_no_components_means_every_component(manager_api, layout):
    body = add(manager_api, kind="email", address="all@example.com").json()

    assert body["components"] == []
    services.component_set_status(
        actor=Subscriber.objects.get().created_by,
        component=layout["billing"],
        status="major_outage",
    )
    from tests.sp_subs_support import told

    assert told() == {"all@example.com"}


def test_an_address_already_subscribed_is_a_conflict(manager_api):
    add(manager_api, kind="email", address="ann@example.com")

    response = add(manager_api, kind="email", address="ann@example.com")

    assert response.status_code == 409
    assert "address" in response.json()["errors"]


def test_an_unknown_component_is_refused(manager_api):
    response = add(manager_api, kind="email", address="a@example.com", components=["nope"])

    assert response.status_code == 400
    assert "components" in response.json()["errors"]
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:10.0.0.1]/hook",
        "http://example.com/hook",
        "ftp://example.com/hook",
    ],
)
def test_a_webhook_endpoint_must_pass_the_outbound_guard(manager_api, loopback_allowed, endpoint):
    response = add(manager_api, kind="webhook", endpoint=endpoint)

    assert response.status_code == 400, response.content
    assert "endpoint" in response.json()["errors"]
    assert not Subscriber.objects.exists()


def test_loopback_is_refused_unless_the_operator_allows_it(manager_api, settings):
    settings.NOTIFY_ALLOWED_NETWORKS = []

    response = add(manager_api, kind="webhook", endpoint="https://127.0.0.1/hook")

    assert response.status_code == 400
    assert "loopback" in response.json()["detail"]


def test_a_webhooks_secret_is_shown_once(manager_api, http_recorder):
    created = add(manager_api, kind="webhook", endpoint=http_recorder.url("/hook"))

    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["secret"]) == 64
    assert body["endpoint"] == http_recorder.url("/hook") and body["address"] == ""
    shown = manager_api.get(f"{URL}{body['id']}/").json()
    assert "secret" not in shown
    assert all("secret" not in row for row in manager_api.get(URL).json()["results"])
    entry = AuditEntry.objects.get(action="subscriber_add")
    assert body["secret"] not in str(entry.after) and "/hook" not in entry.object_repr


def test_list_retrieve_and_delete(manager_api, alice):
    services.subscriber_add(actor=alice, kind="email", address="a@example.com")
    code = services.subscriber_add(actor=alice, kind="email", address="b@example.com").code

    listed = manager_api.get(URL)
    assert listed.status_code == 200
    assert [r["address"] for r in listed.json()["results"]] == ["b@example.com", "a@example.com"]
    assert manager_api.get(f"{URL}{code}/").json()["id"] == code

    assert manager_api.delete(f"{URL}{code}/").status_code == 204
    assert not Subscriber.objects.filter(code=code).exists()
    assert AuditEntry.objects.filter(action="subscriber_delete", object_id__isnull=False).exists()
    assert manager_api.get(f"{URL}{code}/").status_code == 404


def test_the_delivery_log(manager_api, alice, layout, http_recorder):
    http_recorder.script("/hook", [(404, {}, "no such hook")])
    hook = services.subscriber_add(actor=alice, kind="webhook", endpoint=http_recorder.url("/hook"))
    services.component_set_status(actor=alice, component=layout["api"], status="major_outage")
    services.component_set_status(actor=alice, component=layout["api"], status="operational")
    assert deliver_all() == ["failed", "delivered"]

    response = manager_api.get(f"{URL}{hook.code}/deliveries/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["event"], r["status"], r["attempts"]) for r in rows] == [
        ("component.update", "delivered", 1),
        ("component.update", "failed", 1),
    ]
    assert "no such hook" in rows[1]["last_error"] and rows[1]["last_status_code"] == 404
    assert rows[0]["delivered_at"] and rows[0]["created_at"]


@pytest.mark.parametrize("who", ["bob", "vera", "charlie"])
def test_only_managers_manage_subscribers(request, alice, who):
    user = request.getfixturevalue(who)
    api = token_client(user)
    code = services.subscriber_add(actor=alice, kind="email", address="a@example.com").code

    assert api.get(URL).status_code == 403
    assert api.get(f"{URL}{code}/deliveries/").status_code == 403
    assert add(api, kind="email", address="b@example.com").status_code == 403
    assert api.delete(f"{URL}{code}/").status_code == 403
    assert Subscriber.objects.count() == 1


def test_a_read_token_reads_but_does_not_write(alice):
    api = token_client(alice, "read")

    assert api.get(URL).status_code == 200
    assert add(api, kind="email", address="b@example.com").status_code == 403


def test_anonymous_gets_nothing(client):
    assert client.get(URL).status_code in (401, 403)


def test_the_services_refuse_non_managers(bob):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.subscriber_add(actor=bob, kind="email", address="a@example.com")


# --- the admin -------------------------------------------------------------------------


ADMIN = "/admin/statuspage/subscriber/"


def test_the_admin_adds_through_the_service_and_shows_the_log(admin_client_for, layout):
    response = admin_client_for.post(
        f"{ADMIN}add/",
        {
            "kind": "email",
            "address": "ann@example.com",
            "endpoint": "",
            "groups": [layout["public"].pk],
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    ann = Subscriber.objects.get()
    assert ann.confirmed_at is not None and [g.name for g in ann.groups.all()] == ["Public"]
    assert AuditEntry.objects.get(action="subscriber_add").entry_point == "admin"
    assert admin_client_for.get(ADMIN).status_code == 200
    page = admin_client_for.get(f"{ADMIN}{ann.pk}/change/")
    assert page.status_code == 200 and b"ann@example.com" in page.content


def test_the_admin_shows_the_guards_refusal_beside_the_endpoint(admin_client_for, loopback_allowed):
    response = admin_client_for.post(
        f"{ADMIN}add/", {"kind": "webhook", "address": "", "endpoint": "https://10.0.0.1/hook"}
    )

    assert response.status_code == 200
    assert b"not allowed" in response.content
    assert not Subscriber.objects.exists()


def test_the_admin_deletes_through_the_service(admin_client_for, alice):
    ann = services.subscriber_add(actor=alice, kind="email", address="ann@example.com")

    response = admin_client_for.post(f"{ADMIN}{ann.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert AuditEntry.objects.get(action="subscriber_delete").entry_point == "admin"


def test_the_admin_page_is_for_managers_only(client_for, bob):
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])

    assert client_for(bob).get(ADMIN).status_code == 403
