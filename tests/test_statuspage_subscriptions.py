"""Email subscriptions on the public status page: double opt-in through a
real SMTP server, one-click unsubscribe (RFC 8058), the same answer for
known and unknown addresses, rate limits, and links that expire or die
with their subscriber."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents import clock
from statuspage import services
from statuspage.models import Subscriber
from statuspage.services import subscribers as subs
from tests.sp_subs_support import (
    STATUS,
    add_email,
    deliver_all,
    deliveries_of,
    links_in,
    make_layout,
    status_rows,
    text_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def layout(alice):
    return make_layout(alice)


def subscribe(client, address="ann@example.com", *, host=STATUS, path="/subscribe", **choice):
    return client.post(path, {"address": address, **choice}, HTTP_HOST=host)


def assert_anonymous(response):
    assert not response.cookies, response.cookies
    assert "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")
    assert b"csrfmiddlewaretoken" not in response.content


def mailed_links(smtp_sink) -> list[str]:
    assert deliver_all() == ["delivered"]
    (message,) = smtp_sink.wait_for(1)
    smtp_sink.clear()
    return links_in(text_of(message))


def test_the_form_lists_components_and_groups_without_cookies(client, layout):
    response = client.get("/subscribe", HTTP_HOST=STATUS)

    assert response.status_code == 200
    assert_anonymous(response)
    body = response.content.decode()
    for name in ("API", "Website", "Billing", "Public"):
        assert name in body
    assert f'value="{layout["public"].code}"' in body


def test_opt_in_by_email_confirms_through_the_mailed_link(client, layout, smtp_sink):
    response = subscribe(client, components=[layout["billing"].code])

    assert response.status_code == 200
    assert_anonymous(response)
    assert b"Check your inbox" in response.content
    subscriber = Subscriber.objects.get(address="ann@example.com")
    assert subscriber.confirmed_at is None
    assert [c.name for c in subscriber.components.all()] == ["Billing"]

    confirm, unsubscribe = mailed_links(smtp_sink)
    assert confirm.startswith("/subscriptions/confirm/")
    assert unsubscribe.startswith("/unsubscribe/")
    # Following the link only shows a button: mail scanners fetch links.
    page = client.get(confirm, HTTP_HOST=STATUS)
    assert page.status_code == 200 and b"Confirm my subscription" in page.content
    assert_anonymous(page)
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None

    done = client.post(confirm, HTTP_HOST=STATUS)

    assert done.status_code == 200 and b"You are subscribed" in done.content
    assert_anonymous(done)
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at == clock.now() or subscriber.confirmed_at is not None
    assert [d.event for d in deliveries_of(subscriber)] == ["subscription.confirm"]


def test_the_confirmation_mail_carries_the_unsubscribe_headers(client, smtp_sink):
    subscribe(client)
    deliver_all()
    (message,) = smtp_sink.wait_for(1)

    assert message["To"] == "ann@example.com"
    assert (
        str(message["List-Unsubscribe"])
        .strip()
        .startswith("<https://status.treebeard.com/unsubscribe/")
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(preferencelist=("html",)) is not None


def test_the_main_host_offers_the_same_under_status(client, smtp_sink):
    response = subscribe(client, host="testserver", path="/status/subscribe")

    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    assert Subscriber.objects.filter(address="ann@example.com").exists()


def test_the_answer_is_the_same_for_known_unknown_and_confirmed_addresses(client, alice, layout):
    add_email(alice, "known@example.com")
    subscribe(client, "pending@example.com")

    answers = [
        subscribe(client, address)
        for address in ("new@example.com", "pending@example.com", "known@example.com")
    ]

    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len({tuple(sorted(a.headers.items())) for a in answers}) == 1


def test_a_confirmed_address_keeps_its_choice_until_the_new_link_is_followed(
    client, alice, layout, smtp_sink
):
    known = add_email(alice, "known@example.com", components=[layout["billing"]])

    subscribe(client, "known@example.com", components=[layout["api"].code])

    assert [c.name for c in known.components.all()] == ["Billing"]
    confirm, _unsubscribe = mailed_links(smtp_sink)
    client.post(confirm, HTTP_HOST=STATUS)
    assert [c.name for c in known.components.all()] == ["API"]


def test_a_bad_address_or_component_is_refused_on_the_form(client, layout):
    bad = subscribe(client, "not-an-address")
    unknown = subscribe(client, components=["nosuchthing1"])

    assert bad.status_code == 400 and b"valid email address" in bad.content
    assert unknown.status_code == 400 and b"no component" in unknown.content
    assert not Subscriber.objects.exists()
    assert status_rows() == []


def test_requests_are_limited_per_address(client):
    answers = [subscribe(client).status_code for _ in range(subs.MAX_PER_ADDRESS + 1)]

    assert answers == [200] * subs.MAX_PER_ADDRESS + [429]
    assert len(status_rows()) == subs.MAX_PER_ADDRESS


def test_requests_are_limited_per_client_address(client, monkeypatch):
    monkeypatch.setattr(subs, "MAX_PER_IP", 2)
    answers = [subscribe(client, f"p{i}@example.com") for i in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[-1]
    assert 0 < int(limited["Retry-After"]) <= subs.RATE_WINDOW_SECONDS + 1
    assert_anonymous(limited)
    assert not Subscriber.objects.filter(address="p2@example.com").exists()


def test_the_limit_is_the_same_for_a_subscribed_address(client, alice):
    add_email(alice, "known@example.com")
    answers = [subscribe(client, "known@example.com").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]


def test_unsubscribe_shows_a_button_then_one_click_removes_the_subscriber(client, alice):
    ann = add_email(alice, "ann@example.com")
    path = subs.page_path("unsubscribe", token=subs.unsubscribe_token(ann))

    page = client.get(path, HTTP_HOST=STATUS)
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    assert_anonymous(page)
    assert Subscriber.objects.filter(pk=ann.pk).exists()

    # A mail client's one-click POST (RFC 8058): no cookie, no CSRF token.
    done = client.post(path, {"List-Unsubscribe": "One-Click"}, HTTP_HOST=STATUS)

    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    assert_anonymous(done)
    assert not Subscriber.objects.filter(pk=ann.pk).exists()
    again = client.post(path, {"List-Unsubscribe": "One-Click"}, HTTP_HOST=STATUS)
    assert again.status_code == 200 and again.content == done.content


def test_an_old_link_does_not_reach_a_new_subscriber_of_the_same_address(client, alice):
    first = add_email(alice, "ann@example.com")
    token = subs.unsubscribe_token(first)
    services.subscriber_delete(actor=alice, subscriber=first)
    second = add_email(alice, "ann@example.com")

    client.post(subs.page_path("unsubscribe", token=token), HTTP_HOST=STATUS)

    assert Subscriber.objects.filter(pk=second.pk).exists()


def test_a_tampered_link_is_refused(client, alice):
    ann = add_email(alice, "ann@example.com")
    token = subs.unsubscribe_token(ann)

    response = client.post(f"/unsubscribe/{token[:-2]}xx", HTTP_HOST=STATUS)

    assert response.status_code == 400
    assert Subscriber.objects.filter(pk=ann.pk).exists()


def test_confirmation_links_expire_after_a_week_and_unsubscribe_links_never(client, time_machine):
    time_machine.move_to(clock.now(), tick=False)
    subscribe(client)
    ann = Subscriber.objects.get()
    confirm = subs.page_path("subscription-confirm", token=subs.confirm_token(ann))
    unsubscribe = subs.page_path("unsubscribe", token=subs.unsubscribe_token(ann))

    time_machine.shift(subs.CONFIRM_MAX_AGE + timedelta(minutes=1))
    expired = client.post(confirm, HTTP_HOST=STATUS)
    assert expired.status_code == 400 and b"expired" in expired.content
    ann.refresh_from_db()
    assert ann.confirmed_at is None

    time_machine.shift(timedelta(days=3650))
    assert client.post(unsubscribe, HTTP_HOST=STATUS).status_code == 200
    assert not Subscriber.objects.exists()


def test_the_home_partial_posts_to_the_subscribe_page(client):
    from django.template.loader import render_to_string

    html = render_to_string("statuspage/_subscribe.html")

    assert 'action="/status/subscribe"' in html and 'name="address"' in html
    assert "csrf" not in html
