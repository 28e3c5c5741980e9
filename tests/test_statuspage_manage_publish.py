"""Publishing and public updates from the status-page screen: who may,
errors beside their field with nothing written, htmx swaps, the guide's
resolved update, and the preview that saves nothing."""

from __future__ import annotations

import pytest

from incidents import services as incident_services
from statuspage.models import ComponentStatus, PublicIncident, PublicUpdate
from tests import factories
from tests.sp_dash_support import (
    HTMX,
    SCREEN,
    SECRET,
    comms_lead,
    components,
    page_version,
    publish,
    secret_incident,
    url,
)

pytestmark = pytest.mark.django_db


def publish_data(incident, **fields) -> dict:
    data = {
        "from": "screen",
        "ref": incident.ref,
        "title": "Checkout errors for some customers",
        "impact": "major",
        "message": "We are investigating failed payments.",
    }
    data.update(fields)
    return data


def resolve(incident, actor):
    return incident_services.incident_resolve(
        incident=incident, actor=actor, root_cause=f"{SECRET} root cause"
    )


# --- publishing ---------------------------------------------------------------------


def test_comms_lead_publishes_with_component_statuses(client_for, alice, bob):
    (api,) = components(alice, "API")
    incident = factories.declare(actor=bob)
    carol = comms_lead(incident, by=bob)
    data = publish_data(incident, **{f"component_{api.code}": "partial_outage"})
    response = client_for(carol).post(url("publish", incident.ref), data)
    assert response.status_code == 302 and response["Location"] == SCREEN
    public = PublicIncident.objects.get(incident=incident)
    assert (public.name, public.impact, public.status) == (
        "Checkout errors for some customers",
        "major",
        "investigating",
    )
    assert public.updates.get().body == "We are investigating failed payments."
    api.refresh_from_db()
    assert api.status == ComponentStatus.PARTIAL_OUTAGE
    page = client_for(carol).get(SCREEN).content.decode()
    assert "is on the status page as “Checkout errors for some customers”" in page


@pytest.mark.parametrize("role", ["commander", "manager"])
def test_commander_and_manager_publish(client_for, alice, bob, role):
    incident = factories.declare(actor=bob)
    actor = alice
    if role == "commander":
        incident_services.incident_assign_role(
            incident=incident, actor=bob, role="commander", user=bob
        )
        actor = bob
    response = client_for(actor).post(url("publish", incident.ref), publish_data(incident))
    assert response.status_code == 302
    assert PublicIncident.objects.filter(incident=incident).exists()


def test_responder_without_the_role_is_refused_and_offered_no_form(client_for, bob):
    incident = factories.declare(actor=bob)
    client = client_for(bob)
    html = client.get(SCREEN).content.decode()
    assert f'id="publish-{incident.ref}"' not in html
    assert "Only this incident's communications lead, its commander or a manager" in html
    before = page_version()
    response = client.post(url("publish", incident.ref), publish_data(incident))
    assert response.status_code == 403
    assert not PublicIncident.objects.exists()
    assert page_version() == before


def test_viewer_may_not_publish(client_for, vera, bob):
    incident = factories.declare(actor=bob)
    response = client_for(vera).post(url("publish", incident.ref), publish_data(incident))
    assert response.status_code == 403
    assert not PublicIncident.objects.exists()


def test_missing_title_is_shown_beside_it_and_nothing_is_written(client_for, alice):
    incident = factories.declare(actor=alice)
    before = page_version()
    response = client_for(alice).post(
        url("publish", incident.ref), publish_data(incident, title="  "), **HTMX
    )
    assert response.status_code == 400
    html = response.content.decode()
    # Only the form comes back (htmx swaps it alone), the error beside the title.
    assert html.lstrip().startswith(f'<form id="publish-{incident.ref}"')
    error = f'id="publish-{incident.ref}-title_error"><span aria-hidden="true">⚠ </span>'
    assert error + "title is required" in html
    assert "We are investigating failed payments." in html  # what was typed stays
    assert not PublicIncident.objects.exists()
    assert page_version() == before


def test_refusal_without_javascript_shows_the_whole_screen(client_for, alice):
    incident = factories.declare(actor=alice)
    response = client_for(alice).post(
        url("publish", incident.ref), publish_data(incident, title="")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "<title>Status page" in html
    assert f'id="publish-{incident.ref}-title_error"' in html
    assert f'<details class="spm-act" id="act-{incident.ref}" open>' in html


def test_unknown_component_status_is_a_form_error(client_for, alice):
    (api,) = components(alice, "API")
    incident = factories.declare(actor=alice)
    data = publish_data(incident, **{f"component_{api.code}": "on_fire"})
    response = client_for(alice).post(url("publish", incident.ref), data, **HTMX)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not PublicIncident.objects.exists()


def test_drill_is_never_offered_and_publishing_it_is_refused(client_for, alice):
    drill = factories.declare(actor=alice, title="Game day", is_drill=True)
    client = client_for(alice)
    assert "Game day" not in client.get(SCREEN).content.decode()
    own = client.get(url("incident", drill.ref)).content.decode()
    assert "drills are never published" in own
    assert "Publish on the status page" not in own
    response = client.post(url("publish", drill.ref), publish_data(drill), **HTMX)
    assert response.status_code == 409
    assert "A drill is never published on the status page." in response.content.decode()
    assert not PublicIncident.objects.exists()


def test_publishing_twice_is_a_conflict(client_for, alice):
    incident = factories.declare(actor=alice)
    publish(incident, alice)
    response = client_for(alice).post(
        url("publish", incident.ref), publish_data(incident, **{"from": "incident"}), **HTMX
    )
    assert response.status_code == 409
    assert "is on the status page already" in response.content.decode()
    assert PublicIncident.objects.count() == 1


def test_htmx_publish_swaps_the_whole_screen(client_for, alice):
    incident = factories.declare(actor=alice, title="Internal words")
    response = client_for(alice).post(url("publish", incident.ref), publish_data(incident), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#screen"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="screen"')
    assert "Post a public update" in html
    assert "Checkout errors for some customers" in html


def test_publish_form_starts_from_public_words_only(client_for, alice):
    incident = secret_incident(alice, severity="P0")
    html = client_for(alice).get(url("incident", incident.ref)).content.decode()
    form = html[html.index(f'<form id="publish-{incident.ref}"') :]
    form = form[: form.index("</form>")]
    assert SECRET not in form
    assert '<option value="critical" selected>' in form  # P0's first guess
    assert "We are investigating reports of problems" in form


def test_placeholder_left_in_the_text_is_refused(client_for, alice):
    incident = factories.declare(actor=alice)
    data = publish_data(incident, message="Fixed. [What was done to resolve]")
    response = client_for(alice).post(url("publish", incident.ref), data, **HTMX)
    assert response.status_code == 400
    assert "Replace [What was done to resolve] with your own words" in response.content.decode()
    assert not PublicIncident.objects.exists()


# --- public updates ---------------------------------------------------------------------


def update_data(incident, **fields) -> dict:
    data = {"from": "incident", "ref": incident.ref, "kind": "update"}
    data.update(fields)
    return data


def test_comms_lead_posts_a_public_update_from_the_incident_page(client_for, alice, bob):
    (api,) = components(alice, "API")
    incident = factories.declare(actor=bob)
    carol = comms_lead(incident, by=bob)
    publish(incident, alice)
    data = update_data(
        incident,
        status="identified",
        body="We found a bad deploy and are rolling it back.",
        **{f"component_{api.code}": "degraded_performance"},
    )
    response = client_for(carol).post(url("update", incident.ref), data)
    assert response.status_code == 302
    assert response["Location"] == url("incident", incident.ref)
    public = PublicIncident.objects.get(incident=incident)
    assert public.status == "identified"
    latest = public.updates.first()
    assert latest.body == "We found a bad deploy and are rolling it back."
    assert latest.author == carol
    api.refresh_from_db()
    assert api.status == "degraded_performance"


def test_empty_update_is_refused_beside_the_body(client_for, alice):
    incident = factories.declare(actor=alice)
    publish(incident, alice)
    response = client_for(alice).post(
        url("update", incident.ref), update_data(incident, status="monitoring", body=""), **HTMX
    )
    assert response.status_code == 400
    assert f'id="update-{incident.ref}-body_error"' in response.content.decode()
    assert PublicUpdate.objects.count() == 1


def test_responder_without_the_role_may_not_post_a_public_update(client_for, alice, bob):
    incident = factories.declare(actor=alice)
    publish(incident, alice)
    response = client_for(bob).post(
        url("update", incident.ref), update_data(incident, status="monitoring", body="Better.")
    )
    assert response.status_code == 403
    assert PublicUpdate.objects.count() == 1


def test_resolved_inside_offers_the_guides_resolved_update(client_for, alice):
    (api,) = components(alice, "API")
    incident = secret_incident(alice)
    publish(
        incident,
        alice,
        title="Checkout errors",
        components=[{"id": api.code, "status": "major_outage"}],
    )
    resolve(incident, alice)
    client = client_for(alice)
    html = client.get(SCREEN).content.decode()
    assert "Resolved inside, still open in public" in html
    form = html[html.index(f'<form id="resolve-{incident.ref}"') :]
    form = form[: form.index("</form>")]
    assert '<option value="resolved" selected>' in form
    assert "Checkout errors - " in form
    assert "We experienced checkout errors from " in form
    assert "- Affected: API" in form
    assert "A full post-mortem will be published within 48 hours." in form
    assert "- The TreeBeard Team" in form
    assert SECRET not in form

    # The placeholders must be replaced before it goes out.
    body = (
        "Checkout errors\n\nWe experienced checkout errors.\n\nResolution:\n"
        "We rolled back the deploy.\n\nAll services are now operating normally."
    )
    response = client.post(
        url("update", incident.ref),
        {
            "from": "screen",
            "ref": incident.ref,
            "kind": "resolve",
            "status": "resolved",
            "body": body,
        },
        **HTMX,
    )
    assert response.status_code == 200
    public = PublicIncident.objects.get(incident=incident)
    assert public.status == "resolved" and public.resolved_at is not None
    api.refresh_from_db()
    assert api.status == "operational"  # given back when the incident was resolved
    assert "Resolved inside, still open in public" not in response.content.decode()


def test_incident_page_prefills_the_resolved_update_when_asked(client_for, alice):
    incident = factories.declare(actor=alice)
    publish(incident, alice)
    html = client_for(alice).get(url("incident", incident.ref) + "?resolve=1").content.decode()
    assert f'<form id="resolve-{incident.ref}"' in html
    assert "External Communication (Users)" in html
    assert "Post resolved update" in html


# --- the preview --------------------------------------------------------------------------


def test_preview_renders_the_draft_and_saves_nothing(client_for, alice):
    (api,) = components(alice, "API")
    incident = factories.declare(actor=alice)
    before = page_version()
    response = client_for(alice).post(
        url("preview"),
        {
            "ref": incident.ref,
            "title": "Slow logins",
            "impact": "minor",
            "message": "We are looking into <slow> logins.",
            f"component_{api.code}": "degraded_performance",
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<article class="sp-preview sp-preview--minor"')
    assert "Slow logins" in html
    assert "We are looking into &lt;slow&gt; logins." in html
    assert "API → Degraded performance" in html
    assert "Minor impact · Investigating" in html
    assert not PublicIncident.objects.exists()
    assert page_version() == before


def test_preview_of_an_update_shows_it_above_the_public_ones(client_for, alice):
    incident = factories.declare(actor=alice)
    publish(incident, alice, message="First public words.")
    response = client_for(alice).post(
        url("preview"),
        {"ref": incident.ref, "status": "monitoring", "body": "A fix is out."},
        **HTMX,
    )
    html = response.content.decode()
    assert html.index("A fix is out.") < html.index("First public words.")
    assert "Checkout errors" in html
    assert PublicUpdate.objects.count() == 1


def test_preview_without_javascript_is_a_page(client_for, vera):
    response = client_for(vera).post(url("preview"), {"title": "Hello", "message": "Words"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Preview" in html and "Nothing was posted." in html


def test_the_screen_shows_each_form_with_its_preview(client_for, alice):
    incident = factories.declare(actor=alice)
    html = client_for(alice).get(SCREEN).content.decode()
    assert f'id="preview-publish-{incident.ref}"' in html
    assert "Untitled incident" in html  # the draft before a title is typed
