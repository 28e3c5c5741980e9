"""The communications lead's status-page screen in headless Chromium: she
publishes an incident (watching the preview follow her typing) and sets a
component's status, each through htmx without a reload; screenshots under
docs/screenshots/ (shown in the README)."""

from __future__ import annotations

import os

import pytest

from statuspage import services
from statuspage.models import Component, PublicIncident
from tests import factories
from tests import test_browser as browser
from tests.sp_dash_support import comms_lead

# The dashboard's browser fixtures (Chromium at /usr/bin/chromium, failing
# rather than skipping when CI is set; every CSP refusal fails the test).
chromium = browser.chromium
csp_violations = browser.csp_violations
open_page = browser.open_page
DESKTOP, PHONE, sign_in = browser.DESKTOP, browser.PHONE, browser.sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread; Django would
    # otherwise refuse the ORM calls around it (and the database's flush
    # after the test: hence the module's scope, outliving it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def shoot(page, name: str, *, full_page: bool = True) -> None:
    browser.shoot(page, name, full_page=full_page, into=browser.DOCS_SCREENSHOTS)


def seed(alice, bob):
    payments = services.group_create(actor=alice, name="Payments")
    for name in ("API", "Web app", "Dashboard"):
        services.component_create(actor=alice, name=name)
    services.component_create(actor=alice, name="Card gateway", group=payments)
    services.component_create(actor=alice, name="Invoices", group=payments)
    incident = factories.declare(
        actor=bob,
        title="checkout-svc pods OOMKilled after 2.14 deploy",
        severity="P1",
        summary="Error rate 4% on /checkout since 01:40",
        customer_impacting=True,
    )
    factories.declare(actor=bob, title="Nightly export job slow", severity="P3")
    return incident


def test_comms_lead_publishes_an_incident_and_sets_a_component_status(
    live_server,
    open_page,
    alice,
    bob,
):
    incident = seed(alice, bob)
    comms_lead(incident, by=bob, username="carol")
    page = open_page(DESKTOP)
    sign_in(page, live_server, "carol")
    page.get_by_role("link", name="Status page").click()
    page.wait_for_url(f"{live_server.url}/status-page/")
    assert "All Systems Operational" in page.locator("#spm-overall").inner_text()

    # Publish: public words only, with the preview following the draft.
    card = page.locator(f"#card-{incident.ref}")
    card.get_by_text("Publish…").click()
    ref = incident.ref
    page.locator(f"#publish-{ref}-title").fill("Checkout errors for some customers")
    page.locator(f"#publish-{ref}-impact").select_option("major")
    page.locator(f"#publish-{ref}-message").fill(
        "Some card payments fail at checkout. We have found the cause and are rolling back."
    )
    api = Component.objects.get(name="API")
    page.locator(f"#publish-{ref}-component_{api.code}").select_option("partial_outage")
    preview = page.locator(f"#preview-publish-{ref}")
    preview.get_by_text("Checkout errors for some customers").wait_for()
    preview.get_by_text("API → Partial outage").wait_for()
    assert not PublicIncident.objects.exists()  # a preview saves nothing
    card.scroll_into_view_if_needed()
    shoot(page, "status-page-manage")

    card.get_by_role("button", name="Publish on the status page").click()
    published = page.locator(f"#card-{ref}")
    published.get_by_text("Post a public update").wait_for()
    page.locator("#spm-overall", has_text="Partial System Outage").wait_for()
    public = PublicIncident.objects.get(incident=incident)
    assert public.name == "Checkout errors for some customers"
    assert "OOMKilled" not in public.updates.get().body

    # A component's status: one change of the select, saved at once.
    web = Component.objects.get(name="Web app")
    page.locator(f"#status-{web.code}").select_option("degraded_performance")
    page.locator(f"#status-{web.code}.cs-select--degraded_performance").wait_for()
    web.refresh_from_db()
    assert web.status == "degraded_performance"
    shoot(page, "status-page-manage-published")

    # The incident's own public side, and the incident page saying it is public.
    published.get_by_role("link", name="Public timeline and preview →").click()
    page.wait_for_url(f"{live_server.url}/status-page/incidents/{ref}/")
    page.locator(".spm-timeline", has_text="Some card payments fail").wait_for()
    shoot(page, "status-page-manage-incident")
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    assert "On the status page: Investigating" in page.locator("#public-state").inner_text()

    phone = open_page(**PHONE)
    sign_in(phone, live_server, "carol")
    phone.goto(f"{live_server.url}/status-page/")
    phone.locator("#spm-overall").wait_for()
    shoot(phone, "status-page-manage-phone")
