"""Password reset: Django's flow in our pages, throttled per client address
and per email address, with links built from SITE_URL, never the Host header."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core import mail
from django.core.cache import cache
from redis import Redis

from tests import factories

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"
DONE = "/accounts/password_reset/done/"
SITE = "https://ir.example.com"
NEW_PASSWORD = "a new and long passphrase 42"


@pytest.fixture(autouse=True)
def _site(signin_limits):
    signin_limits.SITE_URL = SITE
    signin_limits.PASSWORD_RESET_MAX_PER_HOUR = 5


def ask(client, email, *, ip="10.0.0.1", **extra):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip, **extra)


def link_in(message) -> str:
    match = re.search(r"https?://\S+/accounts/reset/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def test_the_reset_page_renders_in_our_layout(client):
    response = client.get(RESET)

    assert response.status_code == 200
    assert "registration/password_reset_form.html" in [t.name for t in response.templates]
    assert b'class="topbar"' in response.content


def test_the_sign_in_page_links_to_password_reset(client):
    assert f'href="{RESET}"'.encode() in client.get("/accounts/login/").content


def test_a_reset_link_is_built_from_site_url_not_the_host_header(client, bob, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]

    response = ask(client, bob.email, HTTP_HOST="evil.example")

    assert response.status_code == 302 and response["Location"] == DONE
    [message] = mail.outbox
    assert message.to == [bob.email]
    assert link_in(message).startswith(f"{SITE}/accounts/reset/")
    assert "evil.example" not in message.body + message.subject


def test_the_admin_reset_link_is_built_from_site_url_too(client, alice, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]

    response = client.post(
        "/admin/password_reset/",
        {"email": alice.email},
        HTTP_HOST="evil.example",
        REMOTE_ADDR="10.0.0.1",
    )

    assert response.status_code == 302
    assert link_in(mail.outbox[0]).startswith(f"{SITE}/accounts/reset/")


def test_the_reset_mail_goes_out_over_smtp(client, bob, smtp_sink):
    ask(client, bob.email)

    [message] = smtp_sink.messages
    assert message["To"] == bob.email
    assert message["Subject"] == "Reset your TreeBeard IR password"
    assert f"{SITE}/accounts/reset/" in message.get_content()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, bob):
    known = ask(client, bob.email)
    unknown = ask(client, "nobody@treebeard.test", ip="10.0.0.2")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [[bob.email]]
    assert client.get(DONE).status_code == 200


def test_a_reset_link_sets_a_new_password_once(client, bob):
    ask(client, bob.email)
    link = link_in(mail.outbox[0]).removeprefix(SITE)

    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"Choose a new password" in form.content
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    again = client.get(link, follow=True)
    assert b"This reset link does not work" in again.content


def test_setting_a_new_password_lifts_the_sign_in_lockout(client, bob):
    for _ in range(5):
        client.post(
            "/accounts/login/", {"username": "bob", "password": "x"}, REMOTE_ADDR="10.0.0.1"
        )
    assert (
        client.post(
            "/accounts/login/", {"username": "bob", "password": "x"}, REMOTE_ADDR="10.0.0.1"
        ).status_code
        == 429
    )
    ask(client, bob.email)
    form = client.get(link_in(mail.outbox[0]).removeprefix(SITE), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    response = client.post(
        "/accounts/login/", {"username": "bob", "password": NEW_PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 302


def test_reset_requests_are_limited_per_email_address(client, bob):
    answers = [ask(client, bob.email, ip=f"10.0.1.{n}") for n in range(6)]

    assert [r.status_code for r in answers] == [302] * 5 + [429]
    assert b"Too many reset requests" in answers[-1].content
    assert answers[-1]["Retry-After"] == "3600"
    assert len(mail.outbox) == 5
    # Case and spaces do not make it another address.
    assert ask(client, f" {bob.email.upper()} ", ip="10.0.2.1").status_code == 429


def test_reset_requests_are_limited_per_client_address(client, bob):
    others = [factories.UserFactory(username=f"user{n}") for n in range(5)]
    for user in others:
        assert ask(client, user.email).status_code == 302

    response = ask(client, bob.email)

    assert response.status_code == 429
    assert len(mail.outbox) == 5
    assert ask(client, bob.email, ip="10.0.0.2").status_code == 302


def without_tokens(response, email: str) -> str:
    body = response.content.decode().replace(email, "")
    body = re.sub(r'data-server-now="[^"]*"', "", body)  # the clock moves on
    return re.sub(r"[A-Za-z0-9]{64}", "", body)  # CSRF tokens differ per request


def test_the_limit_answers_alike_whether_or_not_the_address_has_an_account(client, bob):
    for n in range(5):
        ask(client, bob.email, ip=f"10.0.1.{n}")
        ask(client, "nobody@treebeard.test", ip=f"10.0.2.{n}")

    known = ask(client, bob.email, ip="10.0.3.1")
    unknown = ask(client, "nobody@treebeard.test", ip="10.0.3.2")

    assert known.status_code == unknown.status_code == 429
    assert b"Too many reset requests" in known.content
    assert without_tokens(known, bob.email) == without_tokens(unknown, "nobody@treebeard.test")


def test_the_counters_expire_after_the_hour(client, bob, settings):
    ask(client, bob.email)

    redis = Redis.from_url(settings.CACHES["default"]["LOCATION"])
    digest = hashlib.sha256(bob.email.encode()).hexdigest()
    for key in (f"pwreset:email:{digest}", "pwreset:ip:10.0.0.1"):
        assert 3590 <= redis.ttl(cache.make_key(key)) <= 3600
    # The address itself is never a key: Redis dumps would list it.
    assert not [k for k in redis.keys("*") if bob.email.encode() in k]


@pytest.mark.parametrize(
    "email",
    ["bob\x00@treebeard.test", "b" * 300 + "@treebeard.test", "not an address", ""],
    ids=["nul", "overlong", "malformed", "empty"],
)
def test_hostile_addresses_get_the_form_again_with_a_message(client, bob, email):
    response = ask(client, email)

    assert response.status_code == 200
    assert b"flash--error" in response.content
    assert mail.outbox == []
