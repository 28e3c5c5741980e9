"""The communications lead's status-page screen (/status-page/): who may
look and who may act, component statuses by htmx and without it, and the
overall status as the public sees it."""

from __future__ import annotations

import pytest

from statuspage.models import Component, ComponentStatus, ComponentStatusChange
from tests import factories
from tests.sp_dash_support import (
    HTMX,
    SCREEN,
    components,
    page_version,
    publish,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_component(alice):
    return components(alice, "API")[0]


# --- who may look ---------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(SCREEN)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/status-page/")


def test_signed_out_htmx_request_sends_the_whole_window_to_sign_in(client):
    response = client.get(SCREEN, **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_someone_without_a_group_is_refused(client_for, charlie):
    assert client_for(charlie).get(SCREEN).status_code == 403


def test_viewer_sees_the_screen_without_anything_to_change(client_for, vera, alice, api_component):
    factories.declare(actor=alice, title="Checkout down")
    page = client_for(vera).get(SCREEN)
    assert page.status_code == 200
    html = page.content.decode()
    assert "All Systems Operational" in html
    assert "API" in html
    assert "Checkout down" in html
    assert "Responders set component statuses; you may look." in html
    assert 'name="status"' not in html  # no component select
    assert "Publish on the status page" not in html
    assert "Only this incident's communications lead" in html


def test_nav_links_to_the_status_page_screen(client_for, bob):
    html = client_for(bob).get("/").content.decode()
    assert f'href="{SCREEN}"' in html
    assert ">Status page</a>" in html


def test_screen_links_to_the_live_public_page(client_for, bob):
    html = client_for(bob).get(SCREEN).content.decode()
    assert 'href="/status/"' in html


# --- component statuses ------------------------------------------------------------


def test_responder_sets_a_component_status_without_javascript(client_for, bob, api_component):
    before = page_version()
    response = client_for(bob).post(
        url("component-status", api_component.code), {"status": "partial_outage"}
    )
    assert response.status_code == 302
    assert response["Location"] == SCREEN
    api_component.refresh_from_db()
    assert api_component.status == ComponentStatus.PARTIAL_OUTAGE
    change = ComponentStatusChange.objects.filter(component=api_component).last()
    assert (change.old_status, change.new_status, change.actor) == (
        "operational",
        "partial_outage",
        bob,
    )
    assert page_version() > before
    page = client_for(bob).get(SCREEN).content.decode()
    assert "API is now Partial outage." in page
    assert "Minor Service Outage" in page  # the overall status the public sees


def test_htmx_change_returns_the_components_and_the_overall_status_out_of_band(
    client_for, bob, api_component
):
    response = client_for(bob).post(
        url("component-status", api_component.code), {"status": "major_outage"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="spm-components"')
    assert 'id="spm-overall"' in html and 'hx-swap-oob="true"' in html
    assert "Partial System Outage" in html
    assert '<option value="major_outage" selected>' in html


def test_viewer_may_not_set_a_component_status(client_for, vera, api_component):
    response = client_for(vera).post(
        url("component-status", api_component.code), {"status": "major_outage"}
    )
    assert response.status_code == 403
    api_component.refresh_from_db()
    assert api_component.status == ComponentStatus.OPERATIONAL
    assert ComponentStatusChange.objects.filter(component=api_component).count() == 1


def test_unknown_status_is_shown_beside_the_select_and_nothing_is_written(
    client_for, bob, api_component
):
    before = page_version()
    response = client_for(bob).post(
        url("component-status", api_component.code), {"status": "on_fire"}, **HTMX
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="status-{api_component.code}-error"' in html
    assert "status must be one of" in html
    assert 'aria-invalid="true"' in html
    assert Component.objects.get(pk=api_component.pk).status == "operational"
    assert page_version() == before


def test_unknown_status_without_javascript_shows_the_screen_with_the_error(
    client_for, bob, api_component
):
    response = client_for(bob).post(
        url("component-status", api_component.code), {"status": "on_fire"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "<title>Status page" in html
    assert f'id="status-{api_component.code}-error"' in html


def test_components_are_listed_by_group_with_hidden_ones_marked(client_for, alice, bob):
    from statuspage import services

    group = services.group_create(actor=alice, name="Payments")
    services.component_create(actor=alice, name="Card gateway", group=group)
    services.component_create(actor=alice, name="Internal ledger", showcase=False)
    html = client_for(bob).get(SCREEN).content.decode()
    assert html.index("Internal ledger") < html.index("Payments") < html.index("Card gateway")
    assert ">hidden</span>" in html


def test_the_overall_status_counts_open_public_incidents(client_for, alice, bob):
    incident = factories.declare(actor=alice)
    publish(incident, alice, impact="critical")
    html = client_for(bob).get(SCREEN).content.decode()
    assert "Major System Outage" in html
    assert "1 open public incident" in html


def test_the_screen_reads_in_a_constant_number_of_queries(
    client_for, alice, django_assert_max_num_queries
):
    client = client_for(alice)
    components(alice, "API", "Web")
    for index in range(2):
        publish(factories.declare(actor=alice, title=f"Published {index}"), alice)
        factories.declare(actor=alice, title=f"Internal {index}")
    client.get(SCREEN)  # warm the session and permission caches
    with django_assert_max_num_queries(20) as few:
        assert client.get(SCREEN).status_code == 200
    for index in range(3):
        publish(factories.declare(actor=alice, title=f"More {index}"), alice)
        factories.declare(actor=alice, title=f"More internal {index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(SCREEN).status_code == 200
