"""The dashboard in headless Chromium (Playwright, sync API) against
pytest-django's live server: the responder's whole path through an
incident, ticking clocks, the page without JavaScript, and screenshots of
board and incident page on a desktop and a 390-pixel phone
(var/screenshots/, for people to look at)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from incidents import clock, services
from incidents.demo import STORIES, play
from incidents.management.commands.seed_demo import EXTRA_RESPONDERS
from incidents.models import Incident
from tests import factories

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
# The ones the README shows.
DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
# A 390-pixel phone: the browser context's options (``open_page(**PHONE)``).
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
PASSWORD = "correct horse battery staple"  # tests/factories.py


@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread; Django would
    # otherwise refuse the ORM calls the tests make around it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def launched_chromium(extra_args=()):
    """Chromium at CHROMIUM (with ``extra_args``), closed after the module:
    a missing browser (or Playwright) fails under CI and skips elsewhere."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if os.environ.get("CI"):
        import playwright.sync_api as sync_api
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def chromium():
    yield from launched_chromium()


# Playwright adds this before any page script and outside the page's
# Content-Security-Policy: every refusal the browser reports reaches the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation({
    directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample,
    source: e.sourceFile, line: e.lineNumber, page: document.location.pathname
  });
});
"""


@pytest.fixture
def csp_violations():
    """What the browser refused under the Content-Security-Policy, on any page
    of any test: a test that leaves an entry here fails."""
    found: list[str] = []
    yield found
    assert found == [], "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def open_page(chromium, csp_violations):
    contexts = []

    def _open(viewport=DESKTOP, **options):
        context = chromium.new_context(viewport=viewport, **options)
        context.set_default_timeout(10_000)
        context.expose_binding(
            "__cspViolation", lambda _source, report: csp_violations.append(str(report))
        )
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        # Chromium also logs each refusal, also where no script runs.
        page.on(
            "console",
            lambda message: (
                csp_violations.append(f"console: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    yield _open
    for context in contexts:
        context.close()


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def shoot(page, name: str, *, full_page: bool = True, into: Path = SCREENSHOTS) -> None:
    into.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(into / f"{name}.png"), full_page=full_page)


# The demo's night (incidents/demo.py, as `make run` seeds it), so the
# screenshots show the board people see: Bob plays its responder, Riley.
def seed_board(bob) -> dict[str, Incident]:
    """The demo incidents, by title."""
    people = {"responder": bob}
    people.update((name, factories.responder(name)) for name, _ in EXTRA_RESPONDERS)
    now = clock.now()
    return {told.fields["title"]: play(told, people=people, now=now) for told in STORIES}


def test_responder_declares_acknowledges_commands_updates_and_resolves(live_server, open_page, bob):
    seed_board(bob)
    page = open_page()
    sign_in(page, live_server, "bob")

    # Declare a P0 (one the demo board does not hold already).
    page.get_by_role("link", name="Declare incident").first.click()
    page.locator("#id_title").fill("Card payments declined at checkout")
    page.locator("label.sev-option", has_text="P0 Critical").click()
    page.locator("#id_summary").fill("The gateway refuses every card since the 01:40 deploy.")
    page.locator("#id_impact").fill("No customer can complete a purchase.")
    page.locator("#id_services").fill("payments, checkout")
    page.get_by_label("Customers are affected").check()
    shoot(page, "declare-desktop")
    page.get_by_role("button", name="Declare incident").click()
    page.wait_for_url(re.compile(r"/incidents/INC-\d{8}-\d{3}/$"))
    head = page.locator("#incident-head")
    assert "P0 Critical" in head.inner_text()

    # The acknowledge clock counts down in the page, without a reload.
    ack_clock = head.locator("time[data-label='Ack']")
    first = ack_clock.inner_text()
    assert re.fullmatch(r"Ack due in [45]m \d\ds", first), first
    page.wait_for_function(
        "([el, before]) => el.textContent !== before", arg=[ack_clock.element_handle(), first]
    )
    assert "Acknowledge due" in ack_clock.get_attribute("title")

    # Acknowledge → Take command → Post update: one primary action per state.
    head.get_by_role("button", name="Acknowledge").click()
    page.get_by_role("button", name="Take command").wait_for()
    assert page.locator("#timeline .event--acknowledged").count() == 1
    page.get_by_role("button", name="Take command").click()
    page.locator("#incident-head a", has_text="Post update").wait_for()
    assert "Bob" in page.locator("#incident-head .incident-head__ic").inner_text()

    page.locator("#incident-head a", has_text="Post update").click()
    assert page.evaluate("document.activeElement.id") == "update_message"
    page.locator("#update_message").fill("Rolled back the 01:40 deploy; **errors falling**.")
    page.locator("#update_status").select_option("identified")
    page.locator("#composer").get_by_role("button", name="Post update").click()
    page.locator("#timeline .event--update_posted strong", has_text="errors falling").wait_for()
    assert "Identified" in page.locator("#incident-head").inner_text()
    shoot(page, "incident-desktop", full_page=False)
    shoot(page, "incident-desktop-full")

    # Resolving needs a root cause: the error shows inline, nothing changes.
    page.locator("#resolve_root_cause").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Resolve incident").click()
    page.locator("#resolve_root_cause_error").wait_for()
    page.wait_for_function("() => document.activeElement.id === 'resolve_root_cause'")
    assert page.locator("#incident-head .status-identified").count() == 1

    page.locator("#resolve_root_cause").fill("Deploy 2026.11.28-3 shipped a broken pool config")
    page.locator("#resolve_resolution").fill("Rolled back; config test added to CI.")
    page.get_by_role("button", name="Resolve incident").click()
    page.locator("#incident-head .status-resolved").wait_for()
    ref = page.locator("#incident-head .ref").inner_text()
    shoot(page, "incident-resolved-desktop", full_page=False)

    # The board lists it under "Resolved in the last 24 hours".
    page.get_by_role("link", name="Board").click()
    page.locator("details.resolved summary").click()
    resolved = page.locator("details.resolved .resolved-list")
    assert ref in resolved.inner_text()
    shoot(page, "board-after-resolve-desktop")
    assert ref not in page.locator(".incident-list").inner_text()


def test_clocks_tick_and_screenshots_of_board_and_incident(live_server, open_page, bob):
    unacked = seed_board(bob)["Checkout API returning 502 for all requests"]

    desktop = open_page(DESKTOP)
    sign_in(desktop, live_server, "bob")
    clocks = desktop.locator(".incident-row__clock time[data-due]")
    assert clocks.count() >= 3
    texts = clocks.all_inner_texts()
    assert all(re.search(r"(due in|overdue by) \d", t) for t in texts), texts
    # The P2 left unacknowledged for 70 minutes is past its one-hour target.
    assert desktop.locator(".clock--breached", has_text="Ack overdue by").count() >= 1
    shoot(desktop, "board-desktop")

    phone = open_page(**PHONE)
    phone.goto(f"{live_server.url}/accounts/login/")
    shoot(phone, "login-phone", full_page=False)
    sign_in(phone, live_server, "bob")
    shoot(phone, "board-phone")

    desktop.goto(f"{live_server.url}{unacked.get_absolute_url()}")
    shoot(desktop, "incident-unacknowledged-desktop", full_page=False)

    dark = open_page(DESKTOP, color_scheme="dark")
    sign_in(dark, live_server, "bob")
    shoot(dark, "board-desktop-dark", full_page=False)
    dark.goto(f"{live_server.url}{unacked.get_absolute_url()}")
    shoot(dark, "incident-desktop-dark", full_page=False)

    phone.goto(f"{live_server.url}{unacked.get_absolute_url()}")
    # On a phone the side panels fold into sections under the header.
    roles = phone.locator("#panel-roles")
    assert roles.get_attribute("open") is None
    assert (
        phone.locator("#panel-roles").bounding_box()["y"]
        < phone.locator("#timeline").bounding_box()["y"]
    )
    shoot(phone, "incident-phone", full_page=False)
    shoot(phone, "incident-phone-full")
    roles.locator("summary").click()
    assert roles.get_attribute("open") is not None


def test_acknowledge_works_without_javascript(live_server, open_page, bob):
    incident = factories.declare(actor=None, title="Disk 95% full on db-2", severity="P2")
    page = open_page(java_script_enabled=False)
    sign_in(page, live_server, "bob")

    page.get_by_role("button", name=f"Acknowledge {incident.ref}").click()

    page.wait_for_url(f"{live_server.url}/")
    assert "acknowledged" in page.locator(".flash--success").inner_text()
    assert page.get_by_role("button", name=f"Acknowledge {incident.ref}").count() == 0
    # The server rendered the clock's relative text, so it reads right as loaded
    # (the P2 was declared a moment ago: its next promise is still ahead).
    assert re.search(r"due in \d", page.locator(".incident-row__clock").inner_text())


def test_board_and_incident_page_refresh_themselves(live_server, open_page, bob, alice):
    # P2: informed, not paged, so no paging event joins the declared one.
    incident = factories.declare(actor=None, title="Webhooks delayed by 5 minutes", severity="P2")
    board = open_page()
    sign_in(board, live_server, "bob")
    page = open_page()
    sign_in(page, live_server, "bob")
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    assert page.locator("#timeline > li").count() == 1

    # Someone else declares and acknowledges; both pages follow within a poll.
    newcomer = factories.declare(actor=alice, title="Search index stale", severity="P0")
    services.incident_acknowledge(incident=incident, actor=alice)

    board.locator(".incident-list", has_text=newcomer.ref).wait_for(timeout=15_000)
    page.get_by_role("button", name="Take command").wait_for(timeout=15_000)
    assert page.locator("#timeline > li").count() == 2  # the new event, not a copy of all
    assert (
        page.locator("#timeline > li").first.locator(".event__kind").inner_text() == "Acknowledged"
    )


def test_responder_takes_a_shift_on_the_oncall_page(live_server, open_page, bob, alice, vera):
    from incidents.models import Override, Schedule

    now = clock.now()
    engineer = Schedule.objects.get(slug="on-call-engineer")
    engineer.time_zone = "Europe/Berlin"
    engineer.save()
    factories.rotation(engineer, [bob, alice, vera], starts_at=now - timedelta(days=2))
    senior = Schedule.objects.get(slug="senior-engineer")
    factories.rotation(senior, [alice, vera], interval="daily", starts_at=now - timedelta(hours=3))

    page = open_page(DESKTOP)
    sign_in(page, live_server, "bob")
    page.get_by_role("link", name="On call", exact=True).click()
    card = page.locator("#schedule-on-call-engineer")
    assert "Bob" in card.locator(".schedule__now").inner_text()

    card.locator("summary", has_text="Take a shift").click()
    start = (now + timedelta(days=3)).astimezone(oncall_zone(engineer))
    card.get_by_label("From").fill(start.strftime("%Y-%m-%dT18:00"))
    card.get_by_label("Until").fill((start + timedelta(days=1)).strftime("%Y-%m-%dT08:00"))
    card.get_by_label("Reason (optional)").fill("Swap with Alice")
    card.get_by_role("button", name="Save override").click()

    page.locator(".flash--success", has_text="covers On-call engineer").wait_for()
    override = Override.objects.get()
    assert override.user == bob and override.reason == "Swap with Alice"
    assert override.starts_at.astimezone(oncall_zone(engineer)).hour == 18
    assert card.locator(".overrides__item", has_text="Swap with Alice").count() == 1
    shoot(page, "oncall-desktop")

    phone = open_page(**PHONE)
    sign_in(phone, live_server, "bob")
    phone.goto(f"{live_server.url}/oncall/")
    shoot(phone, "oncall-phone", full_page=False)

    card.get_by_role("button", name="Remove the override of Bob").click()
    page.locator(".flash--success", has_text="Override removed").wait_for()
    assert not Override.objects.exists()


def oncall_zone(schedule):
    from incidents.oncall import zone_of

    return zone_of(schedule)


def test_a_person_adds_and_tests_a_contact_method_on_their_profile(
    live_server, open_page, bob, smtp_sink
):
    page = open_page(DESKTOP)
    sign_in(page, live_server, "bob")
    page.get_by_role("link", name="Bob").click()
    page.wait_for_url(f"{live_server.url}/me/")
    assert "Nobody can page you yet" in page.locator("#contact-methods").inner_text()

    page.get_by_label("Kind").select_option("email")
    page.get_by_label("Address, routing key or member ID").fill("bob@pager.test")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator(".flash--success", has_text="Added email bob@pager.test").wait_for()
    page.get_by_label("Kind").select_option("slack")
    page.get_by_label("Address, routing key or member ID").fill("U024BE7LH")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator(".contacts__value", has_text="U024BE7LH").wait_for()

    page.get_by_role("button", name="Send a test to bob@pager.test").click()
    page.locator(".flash--success", has_text="sent to bob@pager.test").wait_for()
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "bob@pager.test"
    assert "Nobody can page you yet" not in page.locator("#contact-methods").inner_text()
    shoot(page, "profile-desktop")

    phone = open_page(**PHONE)
    sign_in(phone, live_server, "bob")
    phone.locator(".topbar__me").click()  # the avatar: the name is hidden on a phone
    phone.wait_for_url(f"{live_server.url}/me/")
    shoot(phone, "profile-phone", full_page=False)


def test_the_acknowledge_link_of_a_paging_email_works_on_a_phone(live_server, open_page, bob):
    from urllib.parse import urlsplit

    from incidents import ack_links

    incident = factories.declare(
        actor=None,
        title="Checkout API returning 502 for all requests",
        severity="P0",
        summary="All API pods crash-looping after the 01:40 deploy.",
    )
    path = urlsplit(ack_links.url_for(incident, bob)).path

    phone = open_page(**PHONE)
    phone.goto(f"{live_server.url}{path}")  # not signed in: the link is the proof
    shoot(phone, "ack-link-phone", full_page=False)
    phone.get_by_role("button", name="Acknowledge as Bob").click()
    phone.locator(".flash--success", has_text="Acknowledged as Bob").wait_for()
    shoot(phone, "ack-link-done-phone", full_page=False)
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None


def _uses_app_css(page) -> bool:
    return page.evaluate(
        """() => [...document.styleSheets].some(
            (sheet) => (sheet.href || "").includes("/static/css/app.css")
                && sheet.cssRules.length > 50
        )"""
    )


def test_every_page_works_under_the_content_security_policy(
    live_server, open_page, alice, bob, csp_violations
):
    """Board, incident, declare form, admin, API docs and the browsable API
    under the policy: styled, scripted, and nothing refused (csp_violations
    fails the test on any refusal; the other browser tests share it)."""
    from django.urls import reverse

    from incidents.models import Schedule

    schedule = Schedule.objects.get(slug="on-call-engineer")
    seed_board(bob)
    incident = factories.declare(actor=None, title="Queue backlog growing", severity="P1")
    page = open_page(DESKTOP)
    sign_in(page, live_server, "alice")

    # The board: our stylesheet, no injected <style> (htmx's indicator rules
    # are in app.css), clocks ticking.
    assert _uses_app_css(page)
    assert page.locator("style").count() == 0
    hidden = page.evaluate(
        """() => { const s = document.createElement("span"); s.className = "htmx-indicator";
                   document.body.append(s); return getComputedStyle(s).opacity; }"""
    )
    assert hidden == "0"
    ticking = page.locator(".incident-row__clock time[data-due]").first
    before = ticking.inner_text()
    page.wait_for_function(
        "([el, text]) => el.textContent !== text", arg=[ticking.element_handle(), before]
    )

    # The incident page: acknowledge and post an update, both through htmx.
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    page.locator("#incident-head").get_by_role("button", name="Acknowledge").click()
    page.locator("#timeline .event--acknowledged").wait_for()
    page.locator("#update_message").fill("Consumers scaled from 4 to 12.")
    # As if the person dragged the box taller: the swap must not copy that style.
    page.locator("#update_message").evaluate("el => { el.style.height = '12em'; }")
    page.locator("#composer").get_by_role("button", name="Post update").click()
    page.locator("#timeline .event--update_posted", has_text="Consumers scaled").wait_for()
    assert page.locator("style").count() == 0
    shoot(page, "csp-incident-desktop", full_page=False)

    page.goto(f"{live_server.url}/incidents/new/")
    page.locator("#id_title").wait_for()
    assert _uses_app_css(page)

    # The admin: index, a change list with its filters, a change form with
    # its inlines and date widgets, and the engine status page.
    for path in (
        reverse("admin:index"),
        reverse("admin:incidents_incident_changelist"),
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        reverse("admin:incidents_schedule_change", args=[schedule.pk]),
        reverse("admin:engine-status"),
    ):
        page.goto(f"{live_server.url}{path}")
        page.locator("#content").wait_for()
        assert page.evaluate(
            "() => getComputedStyle(document.querySelector('#header')).display"
        ) in ("flex", "block")
    # The admin's own scripts run: the sidebar filter, "select all" in a list.
    page.locator("#nav-filter").fill("sched")
    page.locator("#nav-sidebar tr.model-group").first.wait_for(state="hidden")
    assert page.locator("#nav-sidebar tr.model-schedule").is_visible()
    shoot(page, "csp-admin-engine-desktop")
    page.goto(f"{live_server.url}{reverse('admin:incidents_incident_changelist')}")
    page.locator("#action-toggle").check()
    page.locator(".action-counter", has_text="selected").wait_for()
    assert "0 of" not in page.locator(".action-counter").inner_text()
    shoot(page, "csp-admin-incidents-desktop")

    # Swagger UI loads its init script, fetches the schema and lists operations.
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert "TreeBeard IR API" in page.locator(".info .title").inner_text()
    page.locator(".opblock-summary").first.click()
    page.locator(".opblock-body").first.wait_for()
    shoot(page, "csp-api-docs-desktop", full_page=False)

    # The browsable API, with Bootstrap and its own scripts.
    page.goto(f"{live_server.url}/api/v1/incidents/{incident.ref}/")
    page.locator(".response-info").wait_for()
    assert page.evaluate("() => typeof window.jQuery") == "function"
    shoot(page, "csp-browsable-api-desktop", full_page=False)

    page.goto(f"{live_server.url}/incidents/INC-00000000-000/")
    assert _uses_app_css(page)


def test_the_browser_refuses_inline_code_and_the_tests_hear_of_it(
    live_server, open_page, bob, csp_violations
):
    """The policy is enforced, not just sent, and csp_violations hears of it."""
    page = open_page(DESKTOP)
    sign_in(page, live_server, "bob")
    ran = page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                   document.body.append(s);
                   document.body.insertAdjacentHTML("beforeend",
                       '<p id="red" style="color: rgb(255, 0, 0)">x</p>');
                   return window.__ran === 1; }"""
    )
    assert ran is False
    assert page.evaluate("getComputedStyle(document.getElementById('red')).color") != (
        "rgb(255, 0, 0)"
    )
    for _ in range(50):
        if len(csp_violations) >= 2:
            break
        page.wait_for_timeout(100)
    reported = " ".join(csp_violations)
    assert "script-src" in reported and "style-src" in reported, csp_violations
    csp_violations.clear()
