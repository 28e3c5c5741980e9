"""The incident page's public side (incidents.publication.state): the
"Public (status page)" choice says whether the incident is on the status
page, and a resolved published incident offers the guide's resolved update.
Drills are never offered."""

from __future__ import annotations

import pytest

from incidents import publication
from incidents import services as incident_services
from tests import factories
from tests.dashboard_support import HTMX, url
from tests.sp_dash_support import publish

pytestmark = pytest.mark.django_db


def page(client, incident, **extra) -> str:
    return client.get(incident.get_absolute_url(), **extra).content.decode()


def test_before_publishing_the_public_choice_offers_to_publish(client_for, bob):
    incident = factories.declare(actor=bob)
    html = page(client_for(bob), incident)
    manage = f"/status-page/incidents/{incident.ref}/"
    assert "Not on the status page yet" in html
    assert f'<a href="{manage}">Publish it</a>' in html
    assert 'id="public-state"' in html


def test_once_published_the_page_shows_the_public_status_and_link(client_for, alice, bob):
    incident = factories.declare(actor=bob)
    public = publish(incident, alice)
    html = page(client_for(bob), incident)
    assert "Not on the status page yet" not in html
    assert "On the status page: <strong>Investigating</strong>" in html
    assert f'href="/status/incidents/{public.code}"' in html
    assert f'href="/status-page/incidents/{incident.ref}/"' in html


def test_htmx_partial_carries_the_public_state_too(client_for, bob):
    incident = factories.declare(actor=bob)
    html = page(client_for(bob), incident, **HTMX)
    assert "Not on the status page yet" in html


def test_resolving_a_published_incident_offers_the_resolved_public_update(client_for, alice, bob):
    incident = factories.declare(actor=bob)
    publish(incident, alice)
    client = client_for(bob)
    response = client.post(url("resolve", incident), {"root_cause": "A bad deploy"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The status page still says <strong>Investigating</strong>" in html
    offer = f'href="/status-page/incidents/{incident.ref}/?resolve=1"'
    assert offer in html
    assert "Post the resolved public update" in html


def test_no_offer_once_the_public_incident_is_resolved(client_for, alice, bob):
    from statuspage import services

    incident = factories.declare(actor=bob)
    public = publish(incident, alice)
    incident_services.incident_resolve(incident=incident, actor=bob, root_cause="Deploy")
    services.public_update_post(
        actor=alice, public_incident=public, status="resolved", body="All good now."
    )
    html = page(client_for(bob), incident)
    assert "Post the resolved public update" not in html


def test_resolved_unpublished_incident_offers_nothing(client_for, bob):
    incident = factories.declare(actor=bob)
    incident_services.incident_resolve(incident=incident, actor=bob, root_cause="Deploy")
    html = page(client_for(bob), incident)
    assert "Post the resolved public update" not in html
    assert "Publish it" not in html


def test_drill_never_offers_publishing(client_for, bob):
    drill = factories.declare(actor=bob, is_drill=True)
    html = page(client_for(bob), drill)
    assert "Publish it" not in html
    assert "/status-page/incidents/" not in html
    assert "A drill: “Public” updates never reach the status page." in html


def test_publication_state_reports_the_manage_screen(alice):
    incident = factories.declare(actor=alice)
    state = publication.state(incident)
    assert state.published is False
    assert state.manage_url == f"/status-page/incidents/{incident.ref}/"
    publish(incident, alice)
    state = publication.state(incident)
    assert (state.published, state.public_status) == (True, "investigating")
