"""Action items inline on the post-mortem page: added, their status, owner
and due date changed, deleted and sent to a tracker as a ticket, each
through its service (postmortems/services/actions.py), refusals beside the
field with nothing written; responders act, viewers read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents import clock
from incidents.models import Notification
from postmortems import services
from postmortems.models import ActionItem, ActionStatus, Tracker
from tests.pm_dash_support import HTMX, action_item, fill, resolved_postmortem, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def pm(bob):
    return resolved_postmortem(bob)


def due(days: int = 7) -> str:
    return (clock.now().date() + timedelta(days=days)).isoformat()


def test_a_responder_adds_an_action_item_inline(pm, bob, client_for):
    response = client_for(bob).post(
        url("action-add", pm.pk),
        {
            "title": "Alert on pool saturation",
            "owner": "bob",
            "due_date": due(),
            "priority": "high",
            "kind": "monitoring",
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="section-actions"' in html and "Alert on pool saturation" in html
    assert "Action Items (at least one)" not in html  # the review panel, out of band
    item = ActionItem.objects.get()
    assert (item.owner, item.priority, item.kind) == (bob, "high", "monitoring")


@pytest.mark.parametrize("htmx", [True, False])
def test_an_item_without_owner_is_refused_beside_the_field(pm, bob, client_for, htmx):
    response = client_for(bob).post(
        url("action-add", pm.pk),
        {"title": "Pool check in CI", "due_date": due(), "priority": "medium", "kind": "fix"},
        **(HTMX if htmx else {}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="action-owner_error"' in html and "owner is required" in html
    assert 'value="Pool check in CI"' in html
    assert not ActionItem.objects.exists()


def test_a_past_due_date_for_a_new_item_is_refused(pm, bob, client_for):
    response = client_for(bob).post(
        url("action-add", pm.pk),
        {"title": "Late", "owner": "bob", "due_date": due(-2), "priority": "low", "kind": "fix"},
        **HTMX,
    )
    assert response.status_code == 400
    assert 'id="action-due_date_error"' in response.content.decode()
    assert not ActionItem.objects.exists()


def test_status_owner_and_due_date_change_from_the_row(pm, bob, alice, client_for):
    item = action_item(pm, bob)
    client = client_for(bob)
    response = client.post(
        url("action-update", pm.pk, item.pk),
        {"status": "done", "owner": "alice", "due_date": due(3)},
        **HTMX,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.status, item.owner, item.due_date.isoformat()) == ("done", alice, due(3))
    assert item.done_at is not None

    refused = client.post(
        url("action-update", pm.pk, item.pk), {"status": "open", "owner": "", "due_date": due()}
    )
    assert refused.status_code == 400
    assert f'id="item-{item.pk}-owner_error"' in refused.content.decode()
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE and item.owner == alice


def test_an_item_is_deleted(pm, bob, client_for):
    item = action_item(pm, bob)
    response = client_for(bob).post(url("action-delete", pm.pk, item.pk))
    assert response.status_code == 302 and response["Location"].endswith("#section-actions")
    assert not ActionItem.objects.exists()


def test_create_ticket_sends_the_item_to_the_chosen_tracker(pm, bob, client_for):
    tracker = Tracker.objects.create(
        kind="github",
        name="GitHub ops",
        base_url="https://github.example",
        project="acme/ops",
        token="t0ken",
        created_at=clock.now(),
    )
    item = action_item(pm, bob)
    client = client_for(bob)
    page = client.get(url("detail", pm.pk)).content.decode()
    assert "Create ticket" in page and "GitHub ops" in page and "t0ken" not in page

    response = client.post(
        url("action-ticket", pm.pk, item.pk), {"tracker": str(tracker.pk)}, **HTMX
    )
    assert response.status_code == 200
    assert "Ticket requested in GitHub ops" in response.content.decode()
    item.refresh_from_db()
    assert item.tracker == tracker
    assert Notification.objects.filter(message_kind="pm_ticket").count() == 1

    again = client.post(url("action-ticket", pm.pk, item.pk), {"tracker": "x"}, **HTMX)
    assert again.status_code == 400 and "No such tracker" in again.content.decode()


def test_a_viewer_sees_the_items_but_cannot_change_them(pm, bob, vera, client_for):
    item = action_item(pm, bob)
    client = client_for(vera)
    html = client.get(url("detail", pm.pk)).content.decode()
    assert item.title in html and "Add action item" not in html and "Create ticket" not in html
    assert client.post(url("action-delete", pm.pk, item.pk)).status_code == 403
    assert ActionItem.objects.filter(pk=item.pk).exists()


def test_items_stay_actionable_on_a_published_postmortem(pm, bob, client_for):
    fill(pm, bob)
    services.postmortem_submit(actor=bob, postmortem=pm)
    services.postmortem_publish(actor=bob, postmortem=pm)
    item = pm.action_items.get()
    client = client_for(bob)
    assert "Add action item" in client.get(url("detail", pm.pk)).content.decode()
    response = client.post(
        url("action-update", pm.pk, item.pk),
        {"status": "in_progress", "owner": "bob", "due_date": item.due_date.isoformat()},
        **HTMX,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == ActionStatus.IN_PROGRESS
