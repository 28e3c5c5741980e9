"""The post-mortem page (/postmortems/<id>/): every section in the guide's
order with the incident's facts and the due clock, each section edited in
place (htmx or a plain form) through ``postmortem_update``, refusals beside
the field with nothing written, and who may do what."""

from __future__ import annotations

import pytest

from postmortems import services
from postmortems.models import Postmortem
from tests.pm_dash_support import HTMX, fill, resolved_postmortem, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def pm(bob):
    return resolved_postmortem(bob)


def test_the_page_shows_the_sections_in_the_guides_order_with_the_incidents_facts(
    pm, bob, client_for
):
    response = client_for(bob).get(url("detail", pm.pk))

    assert response.status_code == 200
    html = response.content.decode()
    titles = [
        "Summary",
        "Timeline",
        "Root Cause",
        "Impact",
        "What Went Well",
        "What Could Be Improved",
        "Action Items",
        "Lessons Learned",
        "Public summary",
    ]
    found = [html.index(f">{title}</h2>") for title in titles]
    assert found == sorted(found)
    assert pm.incident.ref in html and pm.incident.get_absolute_url() in html
    assert "A connection pool of 10 for 40 workers" in html  # root cause, prefilled
    assert "Post-mortem due in 2d 0h" in html  # the due clock, server-rendered
    assert 'data-due="' in html
    assert "P1 High" in html and "Draft" in html
    assert f"{pm.incident.get_absolute_url()}#event-" in html  # entries link to events


def test_an_overdue_postmortem_is_shown_in_red(pm, bob, client_for, later):
    later(hours=49)
    html = client_for(bob).get(url("detail", pm.pk)).content.decode()
    assert "pm-head--late" in html
    assert "clock--breached" in html
    assert "Post-mortem overdue by 1h" in html


def test_edit_opens_the_form_in_place_with_a_preview(pm, bob, client_for):
    client = client_for(bob)
    response = client.get(url("section-edit", pm.pk, "summary"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="section-summary"' in html and "<textarea" in html
    assert f'hx-post="/postmortems/{pm.pk}/preview/?field=summary"' in html

    # Without JavaScript: the page with that section open.
    plain = client.get(url("section-edit", pm.pk, "summary"))
    assert plain.status_code == 302 and plain["Location"].endswith("?edit=summary#section-summary")
    page = client.get(plain["Location"]).content.decode()
    assert 'id="summary-summary"' in page


def test_saving_a_section_with_htmx_swaps_it_and_the_review_panel(pm, bob, client_for):
    response = client_for(bob).post(
        url("section-save", pm.pk, "summary"), {"summary": "Checkout **failed**."}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>failed</strong>" in html
    assert 'id="panel-review"' in html and 'hx-swap-oob="true"' in html
    pm.refresh_from_db()
    assert pm.summary == "Checkout **failed**."


def test_saving_a_section_without_javascript_redirects_to_it(pm, bob, client_for):
    response = client_for(bob).post(
        url("section-save", pm.pk, "root_cause"),
        {
            "root_cause": "Pool too small",
            "contributing_factors": "No alert on saturation\n\nDeploy on Friday",
            "resolution": "Raised",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#section-root_cause")
    pm.refresh_from_db()
    assert pm.contributing_factors == ["No alert on saturation", "Deploy on Friday"]


@pytest.mark.parametrize("htmx", [True, False])
def test_a_refused_section_shows_the_error_beside_the_field_and_writes_nothing(
    pm, bob, client_for, htmx
):
    before = Postmortem.objects.get(pk=pm.pk).updated_at
    response = client_for(bob).post(
        url("section-save", pm.pk, "impact"),
        {"users_affected": "All of them", "services_affected": "api", "data_loss": "on"},
        **(HTMX if htmx else {}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="impact-data_loss_details_error"' in html
    assert "data_loss_details is required" in html
    assert 'value="All of them"' in html  # the form as it was sent
    pm.refresh_from_db()
    assert pm.users_affected == "" and not pm.data_loss and pm.updated_at == before


def test_preview_renders_markdown_and_saves_nothing(pm, bob, client_for):
    client = client_for(bob)
    response = client.post(url("preview", pm.pk) + "?field=summary", {"summary": "*hi*"}, **HTMX)
    assert "<em>hi</em>" in response.content.decode()
    plain = client.post(url("section-save", pm.pk, "summary"), {"summary": "*hi*", "preview": "1"})
    assert plain.status_code == 200 and "<em>hi</em>" in plain.content.decode()
    pm.refresh_from_db()
    assert pm.summary != "*hi*"


def test_a_viewer_reads_but_has_no_edit_button_and_cannot_save(pm, vera, client_for):
    client = client_for(vera)
    html = client.get(url("detail", pm.pk)).content.decode()
    assert "Checkout API returning 500s" in html
    assert "Edit</a>" not in html and "Import timeline again" not in html
    assert "Submit for review" not in html
    response = client.post(url("section-save", pm.pk, "summary"), {"summary": "mine"})
    assert response.status_code == 403
    pm.refresh_from_db()
    assert pm.summary != "mine"


def test_someone_without_a_group_cannot_read_it(pm, charlie, client_for):
    assert client_for(charlie).get(url("detail", pm.pk)).status_code == 403


def test_anonymous_goes_to_sign_in(pm, client):
    response = client.get(url("detail", pm.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_published_postmortem_offers_no_edit(pm, bob, client_for):
    fill(pm, bob)
    services.postmortem_submit(actor=bob, postmortem=pm)
    services.postmortem_publish(actor=bob, postmortem=pm)
    client = client_for(bob)
    html = client.get(url("detail", pm.pk)).content.decode()
    assert "Edit</a>" not in html and "Reopen as draft" in html
    assert "Published" in html
    response = client.post(url("section-save", pm.pk, "summary"), {"summary": "later"}, **HTMX)
    assert response.status_code == 409
    assert "reopen it before you change it" in response.content.decode()


def test_unknown_section_is_404(pm, bob, client_for):
    assert client_for(bob).get(url("section-edit", pm.pk, "nope"), **HTMX).status_code == 404
