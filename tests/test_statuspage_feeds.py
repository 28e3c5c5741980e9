"""Feeds and embeds: Atom and RSS (all, and per component), the maintenance
calendar and the SVG badge. They parse, carry only public text, use the
canonical address of the host they are served on, and set no cookie."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import icalendar
import pytest

from statuspage import services
from statuspage.models import PublicUpdate
from tests.sp_public_support import SECRET, STATUS, seed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"


def parse(content: bytes) -> ET.Element:
    # Our own output, parsed to prove it is well-formed XML.
    return ET.fromstring(content)  # noqa: S314


@pytest.fixture
def page(alice):
    return seed(alice)


def get(client, path):
    response = client.get(path, HTTP_HOST=STATUS)
    assert response.status_code == 200, response.content[:300]
    assert not response.cookies and "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")
    assert SECRET.encode() not in response.content
    return response


def test_the_atom_feed_has_an_entry_per_public_update(client, page):
    response = get(client, "/history.atom")

    assert response["Content-Type"].startswith("application/atom+xml")
    root = parse(response.content)
    entries = root.findall(f"{ATOM}entry")
    public_updates = PublicUpdate.objects.count()
    assert len(entries) == public_updates == 8
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles[0] == "Elevated API error rates: Identified"
    assert "Database upgrade: Completed" in titles
    assert "Search cluster migration: Scheduled" in titles
    first = entries[0]
    link = first.find(f"{ATOM}link").get("href")
    current = page["current"]
    assert link.startswith(f"http://{STATUS}/incidents/{current.code}#update-")
    assert "faulty load balancer" in first.findtext(f"{ATOM}summary")
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"http://{STATUS}/history.atom"
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith(f"tag:{STATUS},") for i in ids)


def test_the_rss_feed_has_the_same_items(client, page):
    response = get(client, "/history.rss")

    assert response["Content-Type"].startswith("application/rss+xml")
    channel = parse(response.content).find("channel")
    items = channel.findall("item")
    assert len(items) == 8
    assert items[0].findtext("title") == "Elevated API error rates: Identified"
    assert items[0].findtext("link").startswith(f"http://{STATUS}/incidents/")
    assert channel.findtext("title") == "TreeBeard status: history"


def test_a_component_feed_has_only_what_affected_it(client, page):
    search = page["search"]

    atom = parse(get(client, f"/components/{search.code}/history.atom").content)
    rss = parse(get(client, f"/components/{search.code}/history.rss").content)

    titles = [e.findtext(f"{ATOM}title") for e in atom.findall(f"{ATOM}entry")]
    assert titles == ["Search cluster migration: Scheduled"]
    assert [i.findtext("title") for i in rss.find("channel").findall("item")] == titles
    api_feed = parse(get(client, f"/components/{page['api'].code}/history.atom").content)
    api_titles = {e.findtext(f"{ATOM}title") for e in api_feed.findall(f"{ATOM}entry")}
    assert "API unavailable: Resolved" in api_titles
    assert "Slow dashboard loading: Resolved" not in api_titles


def test_an_unknown_component_feed_is_404(client, page):
    assert client.get("/components/nope00000000/history.atom", HTTP_HOST=STATUS).status_code == 404
    assert client.get("/components/Bad!/history.rss", HTTP_HOST=STATUS).status_code == 404


def test_an_empty_feed_is_valid_and_stable(client):
    first = get(client, "/history.atom").content
    second = get(client, "/history.atom").content

    assert parse(first).findall(f"{ATOM}entry") == []
    assert first == second


def test_feeds_on_the_main_host_link_under_status(client, page, settings):
    response = client.get("/status/history.atom")

    assert response.status_code == 200
    root = parse(response.content)
    link = root.find(f"{ATOM}entry").find(f"{ATOM}link").get("href")
    assert link.startswith(f"{settings.SITE_URL}/status/incidents/")


def test_the_feed_escapes_what_people_wrote(client, alice, page):
    services.public_update_post(
        actor=alice,
        public_incident=page["current"],
        status="monitoring",
        body="<script>alert(1)</script> & more",
    )

    content = get(client, "/history.atom").content

    root = parse(content)
    summary = root.find(f"{ATOM}entry").findtext(f"{ATOM}summary")
    assert "&lt;script&gt;" in summary and "<script>" not in summary


def test_the_maintenance_calendar(client, page):
    response = get(client, "/maintenance.ics")

    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        "TreeBeard maintenance: Database upgrade",
        "TreeBeard maintenance: Search cluster migration",
    }
    ahead = events["TreeBeard maintenance: Search cluster migration"]
    assert ahead.decoded("dtstart") == page["ahead"].scheduled_for
    assert ahead.decoded("dtend") == page["ahead"].scheduled_until
    assert str(ahead["uid"]) == f"maintenance-{page['ahead'].code}@{STATUS}"
    assert str(ahead["url"]) == f"http://{STATUS}/maintenance/{page['ahead'].code}"
    assert "Search may return partial results" in str(ahead["description"])
    assert "Components: Search" in str(ahead["description"])


def test_the_calendar_bytes_do_not_change_by_themselves(client, page, later):
    first = get(client, "/maintenance.ics").content
    later(minutes=5)

    assert get(client, "/maintenance.ics").content == first


def _badge(client, path):
    response = get(client, path)
    assert response["Content-Type"].startswith("image/svg+xml")
    root = parse(response.content)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    return root, texts


def test_the_overall_badge(client, page):
    root, texts = _badge(client, "/badge.svg")

    assert "TreeBeard" in texts and "partial outage" in texts
    assert root.findtext(f"{SVG}title") == "TreeBeard: partial outage"
    assert int(root.get("width")) > 0 and root.get("height") == "20"


def test_the_badge_of_an_operational_page(client, alice):
    services.component_create(actor=alice, name="API")

    _root, texts = _badge(client, "/badge.svg")

    assert "operational" in texts


def test_a_component_badge_escapes_its_name(client, alice):
    component = services.component_create(actor=alice, name='<API & "Web">')
    services.component_set_status(actor=alice, component=component, status="major_outage")

    response = get(client, f"/badge.svg?component={component.code}")

    assert b"<API" not in response.content
    root = parse(response.content)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<API & "Web">' in texts and "major outage" in texts


@pytest.mark.parametrize("code", ["nope00000000", "../../etc", ""])
def test_an_unknown_component_badge_is_404(client, page, code):
    response = client.get(f"/badge.svg?component={code}", HTTP_HOST=STATUS)

    assert response.status_code == 404
    assert not response.cookies


def test_the_badge_follows_the_status(client, alice, page):
    before = get(client, "/badge.svg").content
    services.public_update_post(
        actor=alice,
        public_incident=page["current"],
        status="resolved",
        body="Fixed.",
    )

    _root, texts = _badge(client, "/badge.svg")

    assert get(client, "/badge.svg").content != before
    assert "operational" in texts
