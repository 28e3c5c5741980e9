"""The post-mortem in headless Chromium: the commander resolves a P1, opens
its post-mortem from the incident page, edits a section with the live
preview, adds two action items, names a reviewer and submits; the reviewer signs off; the
commander publishes and downloads the Markdown. Screenshots under
docs/screenshots/postmortem*.png."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from incidents import clock
from incidents import services as incident_services
from postmortems import services
from postmortems.models import Postmortem, PostmortemStatus
from tests import factories
from tests import test_browser as browser

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
    # otherwise refuse the ORM calls around it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def shoot(page, name: str, *, full_page: bool = True) -> None:
    browser.shoot(page, name, full_page=full_page, into=browser.DOCS_SCREENSHOTS)


def seed(bob):
    incident = factories.declare(
        actor=bob,
        title="Checkout API returning 500s after the 2.14 deploy",
        severity="P1",
        summary="Error rate 4 % on /checkout since 01:40.",
        services=["checkout", "payments"],
    )
    incident_services.incident_acknowledge(incident=incident, actor=bob)
    incident_services.incident_assign_role(incident=incident, actor=bob, role="commander", user=bob)
    incident_services.incident_post_update(
        incident=incident,
        actor=bob,
        message="The pool of 10 connections is exhausted under 40 workers.",
        status="identified",
    )
    return incident


def test_resolve_write_review_publish_and_download_a_postmortem(
    live_server, open_page, bob, alice, tmp_path
):
    incident = seed(bob)
    rita = factories.responder("rita")
    rita.first_name, rita.last_name = "Rita", "Reviewer"
    rita.save(update_fields=["first_name", "last_name"])
    page = open_page(DESKTOP)
    sign_in(page, live_server, "bob")
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")

    # A key moment on the incident's timeline: the diagnosis.
    update = page.locator("#timeline .event--update_posted")
    update.get_by_text("Mark as…").click()
    update.locator("select[name=kind]").select_option("diagnosis")
    update.get_by_role("button", name="Save").click()
    page.locator("#timeline .event--update_posted .moment--diagnosis").wait_for()

    # Resolve: the post-mortem is created with the resolution and linked.
    page.locator("#resolve_root_cause").fill("A pool of 10 connections for 40 workers")
    page.locator("#resolve_resolution").fill("Pool raised to 50; 2.14 rolled back.")
    page.get_by_role("button", name="Resolve incident").click()
    page.locator("#incident-head .status-resolved").wait_for()
    link = page.locator("#incident-head a.incident-link", has_text="Post-mortem: Draft")
    link.wait_for()
    shoot(page, "postmortem-incident-link", full_page=False)
    link.click()
    postmortem = Postmortem.objects.get(incident=incident)
    page.wait_for_url(f"{live_server.url}/postmortems/{postmortem.pk}/")
    assert "Post-mortem due in" in page.locator("#pm-head").inner_text()
    page.locator("#section-timeline .pm-entry--key .moment--diagnosis").wait_for()

    # Edit a section in place, the preview following the typing.
    section = page.locator("#section-what_went_well")
    section.get_by_role("link", name="Edit What Went Well").click()
    field = page.locator("#what_went_well-what_went_well")
    field.fill("- Rolled back in **4 minutes**\n- The IC took command at once")
    page.locator("#preview-what_went_well-what_went_well strong", has_text="4 minutes").wait_for()
    section.scroll_into_view_if_needed()
    shoot(page, "postmortem-editing", full_page=False)
    section.get_by_role("button", name="Save What Went Well").click()
    saved_section = "#section-what_went_well:not(.pm-section--editing) .prose strong"
    page.locator(saved_section, has_text="4 minutes").wait_for()
    postmortem.refresh_from_db()
    assert "**4 minutes**" in postmortem.what_went_well

    # The rest of the template (through the service), then two action items inline.
    services.postmortem_update(
        actor=bob,
        postmortem=postmortem,
        users_affected="About 4 % of checkouts for 38 minutes",
        contributing_factors=["No alert on pool saturation", "Deploy at 01:30"],
        what_could_be_improved="Alert on pool saturation before errors",
        lessons_learned="Size connection pools with the worker count.",
    )
    page.reload()
    soon = (clock.now().date() + timedelta(days=7)).isoformat()
    items = [
        ("Alert on pool saturation", "bob", "high", "monitoring"),
        ("Pool size check in CI", "rita", "medium", "automation"),
    ]
    for count, (title, owner, priority, kind) in enumerate(items, start=1):
        page.locator("#action-title").fill(title)
        page.locator("#action-owner").select_option(owner)
        page.locator("#action-due_date").fill(soon)
        page.locator("#action-priority").select_option(priority)
        page.locator("#action-kind").select_option(kind)
        page.get_by_role("button", name="Add action item").click()
        page.locator("#section-actions .pm-item", has_text=title).wait_for()
        assert page.locator("#section-actions .pm-item").count() == count
    assert postmortem.action_items.count() == 2
    page.locator("#section-actions").scroll_into_view_if_needed()
    shoot(page, "postmortem-action-items", full_page=False)

    # Name the reviewer, then submit (the page's one primary action).
    page.locator("#reviewers-reviewers").select_option(["rita"])
    page.get_by_role("button", name="Save reviewers").click()
    page.locator("#panel-review .pm-reviews", has_text="Rita Reviewer").wait_for()
    page.locator("#pm-head").get_by_role("button", name="Submit for review").click()
    page.locator("#pm-head .pm-status--in_review").wait_for()
    shoot(page, "postmortem-desktop")

    # The reviewer signs off against the checklist.
    reviewer = open_page(DESKTOP)
    sign_in(reviewer, live_server, "rita")
    reviewer.goto(f"{live_server.url}/postmortems/{postmortem.pk}/")
    form = reviewer.locator("#sign-off")
    for key in services.REVIEW_CHECKLIST:
        form.locator(f"#signoff-{key}").check()
    form.locator("#signoff-comment").fill("Clear timeline; good actions.")
    form.scroll_into_view_if_needed()
    shoot(reviewer, "postmortem-sign-off", full_page=False)
    form.get_by_role("button", name="Sign off").click()
    reviewer.locator("#panel-review .state--met", has_text="Signed off").wait_for()

    # The owner publishes, then downloads the Markdown.
    page.reload()
    page.locator("#pm-head").get_by_role("button", name="Publish").click()
    page.locator("#pm-head .pm-status--published").wait_for()
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.PUBLISHED
    with page.expect_download() as download:
        page.get_by_role("link", name="Markdown").click()
    assert download.value.suggested_filename == f"postmortem-{incident.ref}.md"
    saved = tmp_path / "postmortem.md"
    download.value.save_as(saved)
    text = saved.read_text()
    assert text.startswith("# Post-Mortem: Checkout API returning 500s after the 2.14 deploy")
    assert "- Rolled back in **4 minutes**" in text
    assert "- [ ] Alert on pool saturation - Owner: Bob" in text
    shoot(page, "postmortem-published")

    # The list and its backlog; the page on a phone.
    page.get_by_role("link", name="Post-mortems").click()
    page.wait_for_url(f"{live_server.url}/postmortems/")
    page.locator(".pm-row", has_text="Checkout API").wait_for()
    shoot(page, "postmortems-list")
    phone = open_page(**PHONE)
    sign_in(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/postmortems/{postmortem.pk}/")
    phone.locator("#pm-head").wait_for()
    shoot(phone, "postmortem-phone", full_page=False)
