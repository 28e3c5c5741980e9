"""Parity for the guide's incident rules: each rule is one test, driven
through every entry point that exposes it (the REST API, the dashboard,
the admin), and every entry point refuses alike: the service's message, the
same kind of answer (409 for a state conflict, 400 for bad input, an error
message in the admin) and nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from incidents import clock, services
from incidents.models import Incident, TimelineEvent
from tests import factories
from tests.api_support import assert_json_error, incident_url, token_client

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Refusal:
    status: int  # 409 conflict, 400 bad input; the admin answers 302 and says why
    # The service's words, shown by every entry point; None where the API's
    # serializer refuses the shape first (a blank required field: the schema's
    # minLength), in its own words, so only the field named is the same.
    text: str | None
    field: str | None = None  # named in the API's errors, shown beside it on the dashboard


def api(method: str, action: str, body: dict | None = None) -> Callable:
    def attempt(people, incident: Incident) -> tuple[int, str]:
        client = token_client(people["bob"])
        response = getattr(client, method)(incident_url(incident.ref, action), body or {}, "json")
        answer = assert_json_error(response, response.status_code)
        fields = " ".join(f"[{name}]" for name in answer.get("errors", {}))
        return response.status_code, f"{answer['detail']} {fields}"

    return attempt


def dashboard(action: str, body: dict | None = None) -> Callable:
    def attempt(people, incident: Incident) -> tuple[int, str]:
        client = people["client"]
        client.force_login(people["bob"])
        path = reverse(f"incidents:{action}", kwargs={"ref": incident.ref})
        response = client.post(path, body or {})
        return response.status_code, shown_errors(response.content.decode())

    return attempt


ERROR = re.compile(
    r'<p class="(?:field-error" id="(?P<id>[\w-]+)"|flash flash--error"[^>]*)>(?P<text>.*?)</p>',
    re.S,
)


def shown_errors(page: str) -> str:
    """The errors the dashboard shows: beside a field ("[field id] message")
    or on top of the page."""
    return " ".join(
        f"[{m['id']}] {m['text']}" if m["id"] else m["text"] for m in ERROR.finditer(page)
    )


def admin_action(name: str) -> Callable:
    def attempt(people, incident: Incident) -> tuple[int, str]:
        client = people["client"]
        client.force_login(people["alice"])
        response = client.post(
            reverse("admin:incidents_incident_changelist"),
            {"action": name, "_selected_action": [incident.pk]},
        )
        said = " ".join(str(m) for m in get_messages(response.wsgi_request))
        return response.status_code, said

    return attempt


def fresh(bob, severity: str = "P2"):
    return factories.declare(actor=bob, severity=severity)


def after(verb: str, severity: str = "P2", **args):
    """An incident bob declared, then took to a state by ``incident_<verb>``."""

    def make(bob):
        incident = fresh(bob, severity)
        getattr(services, f"incident_{verb}")(incident=incident, actor=bob, **args)
        return incident

    return make


acknowledged = after("acknowledge", "P1")
resolved = after("resolve", root_cause="A bad deploy")
mitigated = after("mitigate")


RESOLVE = {"root_cause": "Cause", "resolution": "Fixed"}
RULES = {
    "acknowledge twice": (
        acknowledged,
        Refusal(409, "is already acknowledged"),
        {
            "api": api("post", "acknowledge"),
            "dashboard": dashboard("acknowledge"),
            "admin": admin_action("acknowledge_selected"),
        },
    ),
    "resolve twice": (
        resolved,
        Refusal(409, "is already resolved"),
        {
            "api": api("post", "resolve", RESOLVE),
            "dashboard": dashboard("resolve", RESOLVE),
            "admin": admin_action("resolve_as_false_positive"),
        },
    ),
    "mitigate twice": (
        mitigated,
        Refusal(409, "is already mitigated"),
        {"api": api("post", "mitigate"), "dashboard": dashboard("mitigate")},
    ),
    "reopen an open incident": (
        fresh,
        Refusal(409, "is not resolved"),
        {
            "api": api("post", "reopen", {"reason": "Back"}),
            "dashboard": dashboard("reopen", {"reason": "Back"}),
        },
    ),
    "post an update on a resolved incident": (
        resolved,
        Refusal(409, "reopen it before you post an update"),
        {
            "api": api("post", "updates", {"message": "Still here", "visibility": "internal"}),
            "dashboard": dashboard(
                "update",
                {"message": "Still here", "status": "investigating", "visibility": "internal"},
            ),
        },
    ),
    "escalate a resolved incident": (
        resolved,
        Refusal(409, "reopen it before you escalate it"),
        {
            "api": api("post", "escalate", {"reason": "Help"}),
            "dashboard": dashboard("escalate", {"reason": "Help", "path": "technical"}),
        },
    ),
    "resolve without a root cause": (
        fresh,
        Refusal(400, None, field="root_cause"),
        {
            "api": api("post", "resolve", {"root_cause": "  "}),
            "dashboard": dashboard("resolve", {"root_cause": "  "}),
        },
    ),
}
CASES = [
    pytest.param(rule, entry, id=f"{rule} via {entry}")
    for rule, (_, _, entries) in RULES.items()
    for entry in entries
]


@pytest.mark.parametrize(("rule", "entry"), CASES)
def test_every_entry_point_refuses_an_illegal_incident_change_alike(
    rule, entry, alice, bob, client
):
    make, refusal, entries = RULES[rule]
    incident = make(bob)
    before = TimelineEvent.objects.filter(incident=incident).count()
    state = Incident.objects.filter(pk=incident.pk).values().get()

    status, said = entries[entry]({"alice": alice, "bob": bob, "client": client}, incident)

    if refusal.text is not None:
        assert refusal.text in said, said[:2000]
    if refusal.field:
        assert re.search(rf"\[(\w+_)?{refusal.field}(_error)?\]", said), said[:2000]
    assert status == (302 if entry == "admin" else refusal.status)
    assert TimelineEvent.objects.filter(incident=incident).count() == before
    assert Incident.objects.filter(pk=incident.pk).values().get() == state


def test_a_detection_time_in_the_future_is_refused_by_every_entry_point(alice, bob, client):
    ahead = clock.now() + timedelta(hours=2)
    count = Incident.objects.count()

    response = token_client(bob).post(
        "/api/v1/incidents/",
        {"title": "Later", "severity": "P2", "detected_at": ahead.isoformat()},
        "json",
    )
    body = assert_json_error(response, 400)
    assert "detected_at" in body["errors"]

    client.force_login(alice)
    page = client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Later",
            "severity": "P2",
            "source": "team_member",
            "detected_at_0": ahead.strftime("%Y-%m-%d"),
            "detected_at_1": ahead.strftime("%H:%M:%S"),
        },
    )
    assert page.status_code == 200
    assert "detected_at" in page.context["adminform"].form.errors
    assert Incident.objects.count() == count
