"""The public status page in headless Chromium, on the status host itself
(Chromium resolves STATUS_PAGE_HOST to the live server): desktop and a
390-pixel phone, light and dark, the bars' tooltips on hover and keyboard
focus, and the page without JavaScript. Screenshots go to docs/screenshots/
(shown in the README)."""

from __future__ import annotations

import pytest

from incidents import clock
from tests.sp_public_support import STATUS, seed
from tests.test_browser import (  # noqa: F401 (a fixture: the ORM beside Playwright)
    DESKTOP,
    DOCS_SCREENSHOTS,
    PHONE,
    REPORT_CSP_VIOLATIONS,
    allow_orm_beside_playwright,
    launched_chromium,
)
from tests.test_browser import shoot as browser_shoot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    """Chromium that sends the status host's name to the live server."""
    yield from launched_chromium([f"--host-resolver-rules=MAP {STATUS} 127.0.0.1"])


@pytest.fixture
def open_page(chromium):
    contexts, violations = [], []

    def _open(viewport=DESKTOP, **options):
        context = chromium.new_context(viewport=viewport, **options)
        context.set_default_timeout(10_000)
        context.expose_binding("__cspViolation", lambda _s, report: violations.append(report))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return page

    yield _open
    for context in contexts:
        context.close()
    assert violations == [], violations


@pytest.fixture
def status_url(live_server, alice):
    seed(alice, now=clock.now())
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://{STATUS}:{port}"


def shoot(page, name: str) -> None:
    browser_shoot(page, name, into=DOCS_SCREENSHOTS)


def test_the_status_page_on_a_desktop(status_url, open_page):
    page = open_page()
    response = page.goto(status_url + "/")

    assert response.status == 200
    assert page.context.cookies() == []
    assert page.locator("h1").inner_text() == "Partial System Outage"
    assert page.locator(".notice--major").count() == 1
    # No horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    # The screenshot shows a day's tooltip: the day of the API's outage.
    api = page.locator(".component").filter(has=page.get_by_role("heading", name="API", exact=True))
    api.locator(".bar--major").first.focus()
    shoot(page, "status-page-desktop")


def test_a_bar_tells_its_day_on_hover_and_on_keyboard_focus(status_url, open_page):
    page = open_page()
    page.goto(status_url + "/")
    api = page.locator(".component").filter(has=page.get_by_role("heading", name="API", exact=True))
    bar = api.locator(".bar").last

    bar.hover()
    tip = bar.evaluate("el => getComputedStyle(el, '::after').content")
    assert "uptime" in tip and "Elevated API error rates" in tip

    page.mouse.move(0, 0)
    bar.focus()
    assert bar.evaluate("el => getComputedStyle(el, '::after').content") == tip
    assert bar.evaluate("el => el === document.activeElement")
    assert "uptime" in bar.get_attribute("aria-label")


def test_the_status_page_on_a_phone(status_url, open_page):
    page = open_page(**PHONE)
    page.goto(status_url + "/")

    width = PHONE["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    bars = page.locator(".component").first.locator(".bar")
    visible = bars.evaluate_all("els => els.filter(e => e.offsetWidth > 0).length")
    assert visible == 30  # the last 30 days, as Statuspage shows on a phone
    shoot(page, "status-page-phone")


def test_the_status_page_in_the_dark(status_url, open_page):
    page = open_page(color_scheme="dark")
    page.goto(status_url + "/")

    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 17, 21)"
    shoot(page, "status-page-dark")


def test_the_status_page_without_javascript(status_url, open_page):
    page = open_page(java_script_enabled=False)
    page.goto(status_url + "/")

    assert page.locator(".component").count() == 4
    page.get_by_role("link", name="Elevated API error rates").click()
    assert page.locator("h1").inner_text() == "Elevated API error rates"
    page.get_by_role("link", name="← Current status").click()
    page.get_by_role("link", name="View history").click()
    assert "Incident history" in page.locator("h1").inner_text()
