"""Sign-in throttling (django-axes): a username is refused from one address
after repeated failures, on the dashboard's and the admin's sign-in alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from tests.api_support import INCIDENTS, token_client
from treebeard_ir.signin import client_ip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signin_limits")]

PASSWORD = "correct horse battery staple"
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def sign_in(client, username, password=PASSWORD, *, path=LOGIN, ip="10.0.0.1", **extra):
    data = {"username": username, "password": password}
    if path == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return client.post(path, data, REMOTE_ADDR=ip, **extra)


def fail(client, username, times, **kwargs):
    return [sign_in(client, username, "wrong password", **kwargs) for _ in range(times)]


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_lockout_page(response, *, action=LOGIN):
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-ins for this username from your address" in body
    assert "refused for 15 minutes" in body
    assert int(response["Retry-After"]) in range(890, 901)
    # Our own page in the site's layout, with the form to try again later.
    assert "registration/login.html" in [t.name for t in response.templates]
    assert 'class="topbar"' in body
    assert f'action="{action}"' in body


# --- the dashboard's sign-in ------------------------------------------------------


def test_four_failures_say_the_password_is_wrong_and_the_fifth_locks_out(client, bob):
    answers = fail(client, "bob", 4)

    assert [r.status_code for r in answers] == [200] * 4
    assert all(b"do not match" in r.content for r in answers)
    assert_lockout_page(fail(client, "bob", 1)[0])


def test_a_locked_out_username_is_refused_even_with_the_right_password(client, bob):
    fail(client, "bob", 5)

    response = sign_in(client, "bob")

    assert_lockout_page(response)
    assert b'value="bob"' in response.content
    assert not signed_in(client)


def test_the_lockout_holds_one_username_from_one_address_only(client, alice, bob):
    fail(client, "bob", 5, ip="10.0.0.1")

    assert sign_in(client, "alice", ip="10.0.0.1").status_code == 302
    client.logout()
    assert sign_in(client, "bob", ip="10.0.0.2").status_code == 302
    assert signed_in(client)


def test_sign_in_works_again_after_the_cool_off(client, bob, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    fail(client, "bob", 5)
    time_machine.move_to(timezone.now() + timedelta(minutes=14))
    assert sign_in(client, "bob").status_code == 429

    time_machine.move_to(timezone.now() + timedelta(minutes=2))
    response = sign_in(client, "bob")

    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)


def test_attempts_during_the_lockout_do_not_extend_it(client, bob, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    fail(client, "bob", 5)
    for _ in range(10):
        time_machine.move_to(timezone.now() + timedelta(minutes=1))
        locked = sign_in(client, "bob", "wrong again")
    assert_retry_after = int(locked["Retry-After"])
    assert 290 <= assert_retry_after <= 300  # 15 minutes from the 5th failure, 10 passed

    time_machine.move_to(timezone.now() + timedelta(minutes=6))
    assert sign_in(client, "bob").status_code == 302


def test_a_successful_sign_in_resets_the_count(client, bob):
    fail(client, "bob", 4)
    assert sign_in(client, "bob").status_code == 302
    client.logout()

    answers = fail(client, "bob", 4)

    assert [r.status_code for r in answers] == [200] * 4
    assert sign_in(client, "bob").status_code == 302


def test_the_limit_and_the_cool_off_come_from_settings(client, bob, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)

    first, second = fail(client, "bob", 2)

    assert first.status_code == 200
    assert second.status_code == 429
    assert b"(2 in a row)" in second.content and b"refused for 3 minutes" in second.content


def test_axes_disabled_counts_nothing(client, bob, settings):
    settings.AXES_ENABLED = False

    assert {r.status_code for r in fail(client, "bob", 8)} == {200}
    assert sign_in(client, "bob").status_code == 302


# --- the admin's sign-in ----------------------------------------------------------------


def test_the_admin_sign_in_locks_out_alike_with_our_page(client, alice):
    answers = fail(client, "alice", 4, path=ADMIN_LOGIN)
    assert [r.status_code for r in answers] == [200] * 4

    assert_lockout_page(fail(client, "alice", 1, path=ADMIN_LOGIN)[0], action=ADMIN_LOGIN)
    response = sign_in(client, "alice", path=ADMIN_LOGIN)
    assert_lockout_page(response, action=ADMIN_LOGIN)
    assert client.get("/admin/").status_code == 302  # still sent to sign in


def test_failures_on_the_dashboard_and_the_admin_add_up(client, alice):
    fail(client, "alice", 3)
    fail(client, "alice", 1, path=ADMIN_LOGIN)

    assert sign_in(client, "alice", "wrong", path=ADMIN_LOGIN).status_code == 429
    assert sign_in(client, "alice").status_code == 429


def test_the_admin_sign_in_page_links_to_password_reset(client):
    response = client.get(ADMIN_LOGIN)

    assert response.status_code == 200
    assert b'href="/admin/password_reset/"' in response.content


# --- what the lockout leaves alone ---------------------------------------------------


def test_an_api_token_keeps_working_while_its_owner_is_locked_out(client, bob):
    api = token_client(bob, "read")
    fail(client, "bob", 5)

    response = api.get(INCIDENTS, REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 200


def test_a_signed_in_session_and_force_login_are_not_affected(client, bob, client_for):
    fail(client, "bob", 5)

    assert client_for(bob).get("/", REMOTE_ADDR="10.0.0.1").status_code == 200


def test_a_failed_sign_in_stores_neither_password_nor_secret(client, bob):
    from axes.models import AccessAttempt

    fail(client, "bob", 1)

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("bob", "10.0.0.1")
    assert "wrong password" not in attempt.post_data


@pytest.mark.parametrize("username", ["bob\x00", "b" * 5000, ""], ids=["nul", "overlong", "empty"])
def test_hostile_usernames_get_the_form_again_not_a_5xx(client, bob, username):
    response = sign_in(client, username, "x")

    assert response.status_code == 200
    assert not signed_in(client)


def test_an_over_long_username_is_counted_and_locked_out_like_any_other(client, bob):
    answers = fail(client, "b" * 5000, 5)

    assert [r.status_code for r in answers] == [200] * 4 + [429]


@pytest.mark.parametrize(
    "body",
    [
        b"username=%ED%A0%80&password=x",  # an encoded lone surrogate
        b"username=%E0%A4%A&password=%zz",  # broken percent-encoding
        b"username=bob&password=x&username=%00",
    ],
    ids=["lone-surrogate", "broken-percent", "repeated-nul"],
)
def test_raw_hostile_bodies_get_the_form_again_not_a_5xx(client, bob, body):
    response = client.post(
        LOGIN, body, content_type="application/x-www-form-urlencoded", REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 200
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("password", "status"), [("wrong", 200), (PASSWORD, 302)], ids=["failed", "successful"]
)
def test_a_nul_in_the_headers_is_not_a_5xx(client, bob, password, status):
    response = sign_in(
        client, "bob", password, HTTP_USER_AGENT="curl\x00/8", HTTP_ACCEPT="text/html\x00"
    )

    assert response.status_code == status
    assert signed_in(client) is (status == 302)


# --- which address is counted -------------------------------------------------------


def test_a_forwarded_for_header_is_ignored_without_trusted_proxies(client, bob):
    for n in range(5):
        sign_in(client, "bob", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert sign_in(client, "bob", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_is_counted(client, bob, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        # The client's own forged entry on the left changes nothing.
        sign_in(client, "bob", "wrong", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")

    locked = sign_in(client, "bob", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="5.6.7.8, 198.51.100.7")
    other = sign_in(client, "bob", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert locked.status_code == 429
    assert other.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "10.0.0.1"),
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "evil, 198.51.100.7", "198.51.100.7"),
        (2, "198.51.100.7, 10.1.1.1", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.1"),  # fewer hops than promised
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_counts_trusted_proxies_from_the_right(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


# --- unlocking ----------------------------------------------------------------------


def test_axes_reset_username_unlocks_at_once(client, bob):
    from django.core.management import call_command

    fail(client, "bob", 5)
    call_command("axes_reset_username", "bob", verbosity=0)

    assert sign_in(client, "bob").status_code == 302


def test_superusers_see_the_attempts_in_the_admin_and_managers_do_not(client, client_for, alice):
    from tests.factories import UserFactory

    fail(client, "bob", 2)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)

    assert client_for(root).get("/admin/axes/accessattempt/").status_code == 200
    client.logout()
    assert client_for(alice).get("/admin/axes/accessattempt/").status_code == 403
