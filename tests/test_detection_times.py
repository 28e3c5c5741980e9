"""Detection times (issue 9, item 4): the time a person types when declaring
an incident goes through ``timebounds`` (no future) in the API and the admin
alike; an alert's start time that no person could type never loses the alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.urls import reverse

from incidents.models import Incident, ReferenceCounter, TimelineEvent
from incidents.services.integrations import integration_create
from tests.api_support import INCIDENTS, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PAYLOADS = Path(__file__).resolve().parent / "fixtures" / "payloads"


def _api(bob, typed: str) -> tuple[int, dict]:
    response = token_client(bob).post(
        INCIDENTS, {"title": "Checkout down", "severity": "P2", "detected_at": typed}, format="json"
    )
    return response.status_code, response.json().get("errors", {})


def _admin(client, alice, typed: str) -> tuple[int, dict]:
    # The admin's split fields are in Django's TIME_ZONE (UTC); no offset.
    client.force_login(alice)
    day, time = typed.removesuffix("Z").split("T")
    response = client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Checkout down",
            "severity": "P2",
            "source": "team_member",
            "detected_at_0": day,
            "detected_at_1": time,
        },
    )
    if response.status_code == 302:
        return 302, {}
    return response.status_code, response.context["adminform"].form.errors


CASES = {
    "future": ("2026-03-02T10:06:00Z", "This time is in the future."),
    "before-2000": ("1999-12-31T23:00:00Z", "This time is before 2000-01-01; enter a recent time."),
    "year-one": ("0001-01-01T00:00:00Z", "This time is before 2000-01-01; enter a recent time."),
}


@pytest.mark.parametrize("entry", ["api", "admin"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_entry_point_refuses_a_detection_time_the_same_way(client, alice, bob, entry, case):
    typed, message = CASES[case]

    status, errors = _api(bob, typed) if entry == "api" else _admin(client, alice, typed)

    assert status == (200 if entry == "admin" else 400)  # the admin shows its form again
    assert errors == {"detected_at": [message]}
    assert Incident.objects.count() == TimelineEvent.objects.count() == 0
    assert ReferenceCounter.objects.count() == 0


@pytest.mark.parametrize(
    "typed",
    [
        "9999-12-31T23:59:59-12:00",  # 10000-01-01 in UTC
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
    ],
)
def test_a_detection_time_datetime_cannot_convert_is_400_naming_detected_at(bob, typed):
    status, errors = _api(bob, typed)

    assert status == 400
    assert list(errors) == ["detected_at"]
    assert not Incident.objects.exists()


def test_a_recent_detection_time_is_kept(bob):
    status, _ = _api(bob, "2026-03-02T11:30:00+02:00")

    assert status == 201
    assert Incident.objects.get().detected_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_an_alert_whose_start_no_person_could_type_still_opens_an_incident_detected_now(
    client, alice
):
    # A sender's clock or template gone wrong: refusing it would lose the alert.
    _, token = integration_create(actor=alice, name="am", kind="alertmanager")
    body = json.loads((PAYLOADS / "alertmanager/webhook_v4_firing.raw.json").read_text())
    for alert in body["alerts"]:
        alert["startsAt"] = "1999-06-01T00:00:00Z"

    response = client.post(
        f"/api/v1/integrations/{token}/alertmanager/",
        data=json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 202, response.content
    assert Incident.objects.count() == 2
    assert set(Incident.objects.values_list("detected_at", flat=True)) == {T0}
