"""``/api/v1/postmortems/``: the same rules as the pages, through the same
services: filters, PATCH of any section, submit / sign-off / publish /
reopen, and the Markdown export."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents import clock, services
from postmortems.models import ActionItem, Postmortem
from tests import factories
from tests.api_support import token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

URL = "/api/v1/postmortems/"
CHECKLIST = {
    "impact_complete": True,
    "root_cause_deep": True,
    "actions_owned": True,
    "timeline_complete": True,
}


@pytest.fixture
def postmortem(bob):
    incident = factories.declare(actor=bob, severity="P0", title="Checkout down")
    services.incident_assign_role(incident=incident, actor=bob, role="commander", user=bob)
    services.incident_resolve(incident=incident, actor=bob, root_cause="Pool too small")
    return Postmortem.objects.get(incident=incident)


def fill(api, postmortem):
    response = api.patch(
        f"{URL}{postmortem.pk}/",
        {
            "summary": "Checkout failed for 40 minutes.",
            "contributing_factors": ["No load test"],
            "users_affected": "About 30 % of checkouts",
            "what_went_well": "Fast rollback",
            "what_could_be_improved": "Load tests",
            "lessons_learned": "Pool follows workers",
            "public_summary": "A database pool was too small; we fixed it.",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    now = clock.now()
    ActionItem.objects.create(
        postmortem=postmortem, title="Alert on pool saturation", owner=postmortem.owner,
        due_date=now.date() + timedelta(days=7), created_at=now, updated_at=now,
    )  # fmt: skip
    return response.json()


def test_a_postmortem_reads_with_the_fields_the_issue_names(api, postmortem):
    body = api.get(f"{URL}{postmortem.pk}/").json()

    for field in (
        "id", "incident", "status", "owner", "due_at", "meeting_at", "summary", "timeline",
        "root_cause", "contributing_factors", "impact", "services_affected", "users_affected",
        "data_loss", "data_loss_details", "what_went_well", "what_could_be_improved",
        "lessons_learned", "public_summary", "reviewers", "action_items", "published_at",
    ):  # fmt: skip
        assert field in body, field
    assert body["incident"] == postmortem.incident.ref
    assert body["owner"] == "bob"
    assert body["root_cause"] == "Pool too small"
    assert body["timeline"] and body["timeline"][0]["event"]


def test_filters_by_incident_status_and_overdue(api, postmortem, bob, frozen):
    other = factories.declare(actor=bob, severity="P3")
    services.incident_resolve(incident=other, actor=bob, root_cause="x")
    api.post(URL, {"incident": other.ref}, format="json")

    assert [p["incident"] for p in api.get(URL, {"incident": other.ref}).json()["results"]] == [
        other.ref
    ]
    assert api.get(URL, {"status": "draft"}).json()["count"] == 2
    assert api.get(URL, {"overdue": "true"}).json()["count"] == 0
    frozen.shift(timedelta(hours=49))
    assert api.get(URL, {"overdue": "true"}).json()["count"] == 2
    assert api.get(URL, {"status": "nope"}).status_code == 400


def test_the_workflow_through_the_api(api, postmortem, alice, bob):
    fill(api, postmortem)
    patched = api.patch(f"{URL}{postmortem.pk}/", {"reviewers": ["alice"]}, format="json")
    assert [r["reviewer"] for r in patched.json()["reviewers"]] == ["alice"]
    assert api.post(f"{URL}{postmortem.pk}/submit/").json()["status"] == "in_review"

    waiting = api.post(f"{URL}{postmortem.pk}/publish/")
    assert waiting.status_code == 409
    assert "reviewers" in waiting.json()["errors"]

    reviewer = token_client(alice)
    signed = reviewer.post(
        f"{URL}{postmortem.pk}/sign-off/", {"checklist": CHECKLIST}, format="json"
    )
    assert signed.status_code == 200, signed.json()
    published = api.post(f"{URL}{postmortem.pk}/publish/")
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert api.post(f"{URL}{postmortem.pk}/reopen/").json()["status"] == "draft"


def test_publishing_an_unfilled_one_names_what_is_missing(api, postmortem):
    api.post(f"{URL}{postmortem.pk}/submit/")

    refused = api.post(f"{URL}{postmortem.pk}/publish/")

    assert refused.status_code == 400
    assert "Lessons Learned" in refused.json()["detail"]
    assert "Action Items" in refused.json()["detail"]


def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, postmortem):
    for body, field in (
        ({"data_loss": True}, "data_loss_details"),
        ({"contributing_factors": "one"}, "contributing_factors"),
        ({"reviewers": ["nobody"]}, "reviewers"),
        ({"timeline": [{"at": "2026-11-25T10:00:00Z", "text": "x", "event": 999999}]}, "timeline"),
    ):
        response = api.patch(f"{URL}{postmortem.pk}/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["errors"], response.json()
    postmortem.refresh_from_db()
    assert not postmortem.data_loss and postmortem.contributing_factors == []


def test_the_timeline_section_can_be_rewritten(api, postmortem):
    event = postmortem.incident.timeline.order_by("at").first()
    body = api.patch(
        f"{URL}{postmortem.pk}/",
        {
            "timeline": [
                {"at": "2026-11-25T09:55:00Z", "text": "Support saw tickets"},
                {"at": event.at.isoformat(), "text": "Declared", "event": event.pk},
            ]
        },
        format="json",
    ).json()

    assert [(e["text"], e["event"]) for e in body["timeline"]] == [
        ("Support saw tickets", None),
        ("Declared", event.pk),
    ]


def test_viewers_read_but_do_not_write(vera, postmortem):
    viewer = token_client(vera)

    assert viewer.get(f"{URL}{postmortem.pk}/").status_code == 200
    assert (
        viewer.patch(f"{URL}{postmortem.pk}/", {"summary": "x"}, format="json").status_code == 403
    )


def test_asking_for_a_postmortem_of_an_open_incident_is_a_409(api, bob):
    incident = factories.declare(actor=bob, severity="P3")

    response = api.post(URL, {"incident": incident.ref}, format="json")

    assert response.status_code == 409
    assert api.post(URL, {"incident": "INC-19990101-001"}, format="json").status_code == 400


def test_the_markdown_export_downloads(api, postmortem):
    fill(api, postmortem)

    response = api.get(f"{URL}{postmortem.pk}/markdown/", HTTP_ACCEPT="text/markdown")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert f'filename="postmortem-{postmortem.incident.ref}.md"' in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith("# Post-Mortem: Checkout down")
    assert "- [ ] Alert on pool saturation - Owner: Bob - Due: " in text
    assert api.get(f"{URL}{postmortem.pk}/markdown/").status_code == 200


def test_responders_mark_key_moments_on_the_incident_timeline(api, postmortem, vera):
    incident = postmortem.incident
    event = incident.timeline.order_by("at").first()
    url = f"/api/v1/incidents/{incident.ref}/timeline/{event.pk}/mark/"

    marked = api.post(url, {"kind": "detection"}, format="json")

    assert marked.status_code == 200 and marked.json()["moment"] == "detection"
    timeline = api.get(f"/api/v1/incidents/{incident.ref}/timeline/").json()["results"]
    assert [e["moment"] for e in timeline if e["id"] == event.pk] == ["detection"]
    assert api.post(url, {"kind": "lunch"}, format="json").status_code == 400
    assert token_client(vera).post(url, {"kind": "repair"}, format="json").status_code == 403
    assert api.post(url, {"kind": None}, format="json").json()["moment"] is None
    missing = f"/api/v1/incidents/{incident.ref}/timeline/99999999/mark/"
    assert api.post(missing, {"kind": "repair"}, format="json").status_code == 404
