"""How people reach a post-mortem: the incident page and the board's
resolved list (through incidents.lifecycle.register_link, incidents never
importing postmortems), "Ask for a post-mortem" on a resolved incident
without one, the nav link; and key moments marked on the incident page."""

from __future__ import annotations

import pytest

from incidents import lifecycle
from incidents.models import TimelineMark
from postmortems.models import Postmortem
from tests import factories
from tests.pm_dash_support import HTMX, resolved_postmortem, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_the_incident_page_links_its_postmortem_with_status_and_due_clock(bob, client_for):
    postmortem = resolved_postmortem(bob)
    html = client_for(bob).get(postmortem.incident.get_absolute_url()).content.decode()
    assert f'href="{url("detail", postmortem.pk)}"' in html
    assert "Post-mortem: Draft" in html
    assert "Post-mortem due in 2d 0h" in html


def test_the_boards_resolved_list_shows_the_postmortem(bob, vera, client_for):
    postmortem = resolved_postmortem(bob)
    html = client_for(vera).get("/").content.decode()
    assert f'href="{url("detail", postmortem.pk)}"' in html
    assert "Post-mortem: Draft" in html
    assert 'href="/postmortems/">Post-mortems</a>' in html


def test_a_resolved_incident_without_one_offers_to_ask_for_it(bob, vera, client_for):
    incident = factories.declare(actor=bob, severity="P3")
    from incidents import services

    services.incident_resolve(incident=incident, actor=bob, root_cause="x", resolution="y")
    assert (
        "Ask for a post-mortem"
        not in client_for(vera).get(incident.get_absolute_url()).content.decode()
    )
    client = client_for(bob)
    html = client.get(incident.get_absolute_url()).content.decode()
    assert "Ask for a post-mortem" in html and url("request", incident.ref) in html

    response = client.post(url("request", incident.ref))
    postmortem = Postmortem.objects.get(incident=incident)
    assert response.status_code == 302 and response["Location"] == url("detail", postmortem.pk)
    again = client.post(url("request", incident.ref))
    assert again.status_code == 302 and again["Location"] == incident.get_absolute_url()


def test_an_open_incident_offers_nothing(bob, client_for):
    incident = factories.declare(actor=bob, severity="P1")
    assert lifecycle.links(incident, user=bob) == []
    html = client_for(bob).get(incident.get_absolute_url()).content.decode()
    assert "Ask for a post-mortem" not in html


def test_a_responder_marks_a_key_moment_with_htmx(bob, client_for):
    incident = factories.declare(actor=bob, severity="P1")
    event = incident.timeline.order_by("at", "id").first()
    client = client_for(bob)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Mark as…" in page

    mark_url = f"/incidents/{incident.ref}/timeline/{event.pk}/mark/"
    response = client.post(mark_url, {"kind": "detection"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="event-{event.pk}"' in html and "event--key" in html
    assert 'class="moment moment--detection"' in html
    assert TimelineMark.objects.get(event=event).kind == "detection"

    refused = client.post(mark_url, {"kind": "luck"}, **HTMX)
    assert refused.status_code == 400 and "field-error" in refused.content.decode()
    assert TimelineMark.objects.get(event=event).kind == "detection"

    plain = client.post(mark_url, {"kind": ""})
    assert plain.status_code == 302 and plain["Location"].endswith(f"#event-{event.pk}")
    assert not TimelineMark.objects.exists()


def test_a_viewer_cannot_mark(bob, vera, client_for):
    incident = factories.declare(actor=bob, severity="P1")
    event = incident.timeline.order_by("at", "id").first()
    client = client_for(vera)
    assert "Mark as…" not in client.get(incident.get_absolute_url()).content.decode()
    response = client.post(
        f"/incidents/{incident.ref}/timeline/{event.pk}/mark/", {"kind": "repair"}
    )
    assert response.status_code == 403
    assert not TimelineMark.objects.exists()


def test_marked_events_stand_out_in_the_imported_timeline(bob, client_for):
    incident = factories.declare(actor=bob, severity="P1")
    event = incident.timeline.order_by("at", "id").first()
    client = client_for(bob)
    client.post(f"/incidents/{incident.ref}/timeline/{event.pk}/mark/", {"kind": "detection"})
    postmortem = resolved_postmortem(bob)
    other = postmortem.incident
    assert other != incident  # a second incident: its own timeline
    from incidents import services

    services.incident_acknowledge(incident=incident, actor=bob)
    services.incident_resolve(incident=incident, actor=bob, root_cause="x", resolution="y")
    mine = Postmortem.objects.get(incident=incident)
    html = client.get(url("detail", mine.pk)).content.decode()
    assert "pm-entry--key" in html and "moment--detection" in html
