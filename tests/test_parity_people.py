"""One rule, every entry point (issue 10, item 3): channels, contact methods,
API tokens and people's accounts. For each rule, one test drives every
entry point that exposes it (the REST API, the admin's pages, the
dashboard, the command line, and the service itself for the record) and
expects the same refusal, naming the same field, with nothing written: the
rows as they were and no audit entry. Integrations are in
``test_integration_rules.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from incidents.admin.contacts import ContactMethodForm
from incidents.errors import DomainError
from incidents.guide import RESPONDER
from incidents.models import ApiToken, AuditEntry, Channel, ContactMethod
from incidents.services import channels, contacts, people, tokens
from tests import factories
from tests.admin_support import form_data, inline_prefix, signed_in, with_row
from tests.oncall_support import BAD_CONTACT_VALUES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]

CHANNELS = "/api/v1/channels/"
ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"
LOCAL_HOOK = "http://127.0.0.1:9/services/T000/B000/XXXXSECRETXXXX"


def admin_url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


# How each entry point answers a refusal of these rules, none of which is a
# conflict (409): the API and the dashboard with 400, the admin by showing
# its form again (200), the service and the command line with a DomainError
# that the API would map to 400.
REFUSED_WITH = {"api": 400, "dashboard": 400, "admin": 200, "service": 400, "command": 400}


def refused_with(entry: str) -> int:
    """The status a refusal at ``entry`` (``api_update``, ``admin_add``, …) comes with."""
    return REFUSED_WITH[entry.split("_")[0]]


def refusal(outcome, *, status: int) -> dict[str, str]:
    """``{field: message}`` of a refusal answered with ``status``, whichever
    entry point made it: a ``DomainError`` (a conflict when ``status`` is
    409), the API's JSON, or the form an HTML page shows again (the admin's
    form and its inline rows, or a dashboard form)."""
    if isinstance(outcome, DomainError):
        assert outcome.conflict == (status == 409), outcome
        return {outcome.field: outcome.message}
    assert outcome.status_code == status, (outcome.status_code, outcome.content[:300])
    if outcome["Content-Type"].startswith("application/json"):
        return {field: " ".join(said) for field, said in outcome.json()["errors"].items()}
    context = outcome.context
    if "adminform" in context:
        forms = [context["adminform"].form]
        for inline in context["inline_admin_formsets"]:
            forms += inline.formset.forms
    else:
        forms = [context["form"]]
    errors: dict[str, str] = {}
    for form in forms:
        for field, said in form.errors.items():
            errors[field] = " ".join([errors.get(field, ""), *said]).strip()
    assert errors, "the page was shown again without saying why"
    return errors


def refused_by_service(call: Callable) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


class Unchanged:
    """The rows of interest and the size of the audit log, before and after."""

    def __init__(self, rows: Callable[[], list]):
        self.rows = rows
        self.before = (rows(), AuditEntry.objects.count())

    def check(self) -> None:
        assert (self.rows(), AuditEntry.objects.count()) == self.before


# --- channels ------------------------------------------------------------------------


def channel_rows() -> list[dict]:
    return list(Channel.objects.values().order_by("pk"))


def existing_channel(entry: str, kind: str) -> Channel | None:
    """The channel a change is tried on (None when the entry creates one)."""
    if entry in ("api_create", "admin_add"):
        return None
    target = {"webhook": LOCAL_HOOK, "slack": LOCAL_HOOK, "pagerduty": ROUTING_KEY}[kind]
    return Channel.objects.create(name=f"Old {kind}", kind=kind, target=target, severities=["P1"])


def drive_channel(entry: str, alice, channel: Channel | None, kind: str, fields: dict):
    """Create a channel of ``kind`` with ``fields``, or change ``channel``
    to have them, through ``entry``."""
    client = signed_in(alice)
    if entry == "api_create":
        body = {"name": "New", "kind": kind, "target": ROUTING_KEY, **fields}
        return client.post(CHANNELS, body, content_type="application/json")
    if entry == "admin_add":
        form = {"name": "New", "kind": kind, "target": ROUTING_KEY, "enabled": "on", **fields}
        return client.post(admin_url("incidents_channel_add"), form)
    if entry == "api_update":
        return client.patch(f"{CHANNELS}{channel.pk}/", fields, content_type="application/json")
    if entry == "admin_change":
        form = {"name": channel.name, "target": channel.target, "severities": channel.severities}
        form = {**form, "enabled": "on", "new_secret": "", **fields}
        return client.post(admin_url("incidents_channel_change", channel.pk), form)
    assert entry == "service"
    return refused_by_service(
        lambda: channels.channel_update(actor=alice, channel=channel, **fields)
    )


def channel_refusal(entry: str, alice, kind: str, fields: dict) -> dict[str, str]:
    """Try ``fields`` on a channel of ``kind`` through ``entry`` (a new
    channel, or one already there); it is refused and nothing is written.
    What the refusal says, ``{field: message}``."""
    channel = existing_channel(entry, kind)
    unchanged = Unchanged(channel_rows)

    said = refusal(drive_channel(entry, alice, channel, kind, fields), status=refused_with(entry))

    unchanged.check()
    return said


@pytest.mark.parametrize(
    "entry", ["api_create", "api_update", "admin_add", "admin_change", "service"]
)
@pytest.mark.parametrize(
    ("kind", "target", "says"),
    [
        ("webhook", "http://10.0.0.1/hook", "private"),
        ("slack", "http://hooks.slack.test/services/T/B/X", "https://"),
        ("pagerduty", "short-key", "32 letters"),
    ],
    ids=["private-address", "plain-http-slack", "bad-routing-key"],
)
def test_a_bad_channel_target_is_refused_everywhere(alice, entry, kind, target, says):
    assert says in channel_refusal(entry, alice, kind, {"target": target})["target"]


@pytest.mark.parametrize(
    ("entry", "severities", "says"),
    [
        ("api_create", [], "at least one"),
        ("api_update", [], "at least one"),
        ("service", [], "at least one"),
        ("api_create", ["P9"], "P9"),
        ("api_update", ["P1", "P9"], "P9"),
        ("admin_add", ["P9"], "P9"),
        ("admin_change", ["P9"], "P9"),
        ("service", ["P9"], "P9"),
    ],
)
def test_severities_outside_p0_p3_or_none_at_all_are_refused_everywhere(
    alice, entry, severities, says
):
    # The admin's checkboxes send no list on purpose only as "none ticked",
    # which means the guide's routing for the kind (as its help text says).
    said = channel_refusal(entry, alice, "pagerduty", {"severities": severities})

    assert says in said["severities"]


@pytest.mark.parametrize("entry", ["admin_change", "service"])
@pytest.mark.parametrize(
    ("secret", "says"),
    [("short-secret", "32 to 64 characters"), ("x" * 30 + " spaces " + "y" * 10, "without spaces")],
    ids=["too-short", "with-spaces"],
)
def test_a_bad_signing_secret_is_refused_everywhere(alice, entry, secret, says):
    # The API's rotate-secret/ makes a random secret: it takes none typed.
    said = channel_refusal(entry, alice, "webhook", {"new_secret": secret})

    assert says in said["new_secret"]


@pytest.mark.parametrize(
    "entry", ["api_create", "api_update", "admin_add", "admin_change", "service"]
)
def test_a_channel_name_in_use_is_refused_everywhere_in_the_services_words(alice, entry):
    Channel.objects.create(name="Taken", kind="email", target="t@x.test", severities=["P1"])

    said = channel_refusal(entry, alice, "pagerduty", {"name": "Taken"})

    assert said["name"] == "A channel named 'Taken' already exists."


@pytest.mark.parametrize("entry", ["api_update", "service"])
def test_a_channels_kind_never_changes(alice, entry):
    # The admin shows the kind read-only once created (test_admin_channels).
    said = channel_refusal(entry, alice, "pagerduty", {"kind": "email"})

    assert "cannot change" in said["kind"]


@pytest.mark.parametrize("entry", ["api", "admin_action", "service"])
def test_only_a_webhook_has_a_signing_secret_to_rotate(alice, entry):
    channel = existing_channel("service", "slack")
    unchanged = Unchanged(channel_rows)
    says = "Only webhook channels have a signing secret."

    if entry == "api":
        outcome = signed_in(alice).post(f"{CHANNELS}{channel.pk}/rotate-secret/")
        assert says in refusal(outcome, status=400)["kind"]
    elif entry == "admin_action":
        form = {"action": "rotate_secret", "_selected_action": [channel.pk]}
        page = signed_in(alice).post(admin_url("incidents_channel_changelist"), form, follow=True)
        assert f"{channel.name}: {says}" in [str(m) for m in page.context["messages"]]
    else:
        refused = refused_by_service(
            lambda: channels.channel_rotate_secret(actor=alice, channel=channel)
        )
        assert (refused.field, refused.message) == ("kind", says)
    unchanged.check()


# --- contact methods -------------------------------------------------------------------


def contact_rows() -> list[dict]:
    return list(ContactMethod.objects.values().order_by("pk"))


@pytest.fixture
def bobs_methods(bob) -> tuple[ContactMethod, ContactMethod]:
    return (
        ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test"),
        ContactMethod.objects.create(user=bob, kind="email", value="bob@home.test"),
    )


def drive_contact(entry: str, alice, bob, methods, kind: str, value: str):
    """Add ``kind: value`` to bob's contact methods (or change his second
    one to it) through ``entry``: bob on his profile page, alice (a
    manager) in the admin."""
    if entry == "dashboard":
        return signed_in(bob).post("/me/contact-methods/", {"kind": kind, "value": value})
    client = signed_in(alice)
    row = {"kind": kind, "value": value, "enabled": "on"}
    if entry == "admin_add":
        return client.post(admin_url("incidents_contactmethod_add"), {"user": bob.pk, **row})
    if entry == "admin_change":
        return client.post(admin_url("incidents_contactmethod_change", methods[1].pk), row)
    if entry == "admin_person_page":
        page = client.get(admin_url("auth_user_change", bob.pk))
        data = with_row(form_data(page), inline_prefix(page, ContactMethodForm), row)
        return client.post(admin_url("auth_user_change", bob.pk), data)
    assert entry == "service"
    return refused_by_service(
        lambda: contacts.contact_add(actor=alice, user=bob, kind=kind, value=value)
    )


def contact_refusal(entry: str, alice, bob, methods, kind: str, value: str) -> dict[str, str]:
    """Try ``kind: value`` as one of bob's contact methods through
    ``entry``; it is refused and nothing is written. What the refusal says."""
    unchanged = Unchanged(contact_rows)

    outcome = drive_contact(entry, alice, bob, methods, kind, value)
    said = refusal(outcome, status=refused_with(entry))

    unchanged.check()
    return said


CONTACT_ENTRIES = ["dashboard", "admin_add", "admin_change", "admin_person_page", "service"]


@pytest.mark.parametrize("entry", CONTACT_ENTRIES)
@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [*BAD_CONTACT_VALUES, ("email", "   ", "Enter how to reach you.")],
    ids=["email", "pagerduty", "slack", "blank"],
)
def test_a_bad_contact_value_is_refused_everywhere(
    alice, bob, bobs_methods, entry, kind, value, says
):
    said = contact_refusal(entry, alice, bob, bobs_methods, kind, value)

    assert says in said["value"]


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("dashboard", "You already have this contact method."),
        ("admin_change", "Bob already has this contact method."),
        ("admin_person_page", "Bob already has this contact method."),
        ("service", "Bob already has this contact method."),
        ("admin_add", "Bob already has this contact method."),
    ],
)
def test_the_same_contact_method_twice_is_refused_everywhere(alice, bob, bobs_methods, entry, says):
    said = contact_refusal(entry, alice, bob, bobs_methods, "email", "bob@pager.test")

    assert said["value"] == says


def test_a_refused_row_on_the_person_page_leaves_the_whole_page_unsaved(alice, bob):
    client = signed_in(alice)
    page = client.get(admin_url("auth_user_change", bob.pk))
    data, prefix = form_data(page), inline_prefix(page, ContactMethodForm)
    data.update({"first_name": "Robert", f"{prefix}-TOTAL_FORMS": 2})
    data.update({f"{prefix}-0-kind": "email", f"{prefix}-0-value": "bob@pager.test"})
    data.update({f"{prefix}-1-kind": "email", f"{prefix}-1-value": "not-an-address"})
    unchanged = Unchanged(lambda: [*person_rows(), *contact_rows()])

    outcome = client.post(admin_url("auth_user_change", bob.pk), data)

    # The name and the first row were saved while the page was checked, and
    # rolled back with it: the page is one change, made whole or not at all.
    assert refusal(outcome, status=200) == {"value": "Enter a valid email address."}
    unchanged.check()


@pytest.mark.parametrize("entry", ["admin_change", "admin_delete", "service"])
def test_a_manager_never_redirects_a_superusers_pages(alice, entry):
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    method = ContactMethod.objects.create(user=root, kind="email", value="root@pager.test")
    unchanged = Unchanged(contact_rows)
    client = signed_in(alice)

    if entry == "admin_change":
        row = {"kind": "email", "value": "alice@evil.test", "enabled": "on"}
        assert (
            client.post(admin_url("incidents_contactmethod_change", method.pk), row).status_code
            == 403
        )
    elif entry == "admin_delete":
        page = admin_url("incidents_contactmethod_delete", method.pk)
        assert client.post(page, {"post": "yes"}).status_code == 403
    else:
        with pytest.raises(PermissionDenied):
            contacts.contact_update(actor=alice, method=method, value="alice@evil.test")
    unchanged.check()


# --- API tokens ------------------------------------------------------------------------


def token_rows() -> list[dict]:
    return list(ApiToken.objects.values().order_by("pk"))


def drive_token(entry: str, actor, owner, scopes: list[str]):
    """Issue ``owner`` a token with ``scopes`` through ``entry``, as ``actor``."""
    if entry == "admin_add":
        form = {"user": owner.pk, "name": "ci", "scopes": scopes}
        return signed_in(actor).post(admin_url("incidents_apitoken_add"), form)
    if entry == "command":
        options = [arg for scope in scopes for arg in ("--scope", scope)]
        with pytest.raises(CommandError) as caught:
            call_command("create_api_token", owner.username, *options)
        # The command line names the option it refuses.
        assert "--scope" in str(caught.value)
        return DomainError(str(caught.value), field="scopes")
    assert entry == "service"
    return refused_by_service(
        lambda: tokens.api_token_create(actor=actor, user=owner, scopes=scopes)
    )


@pytest.mark.parametrize(
    ("entry", "scopes"),
    [
        ("admin_add", []),
        ("service", []),
        ("admin_add", ["read", "admin"]),
        ("command", ["read", "admin"]),
        ("service", ["read", "admin"]),
    ],
)
def test_a_token_without_a_scope_or_with_an_unknown_one_is_refused_everywhere(alice, entry, scopes):
    # The command line gives read and write when no --scope is named.
    unchanged = Unchanged(token_rows)

    outcome = drive_token(entry, alice, alice, scopes)

    assert "scopes" in refusal(outcome, status=refused_with(entry))
    unchanged.check()


@pytest.mark.parametrize("entry", ["admin_add", "service"])
def test_a_manager_never_issues_a_token_that_acts_as_someone_else(alice, bob, entry):
    # The command line is the operator's, who may issue any token.
    unchanged = Unchanged(token_rows)

    if entry == "admin_add":
        outcome = drive_token(entry, alice, bob, ["read"])
        assert "user" in refusal(outcome, status=200)  # bob is not among the owners offered
    else:
        with pytest.raises(PermissionDenied):
            tokens.api_token_create(actor=alice, user=bob, scopes=["read"])
    unchanged.check()


# --- people ----------------------------------------------------------------------------


def person_rows() -> list[dict]:
    return list(
        get_user_model()
        .objects.order_by("pk", "groups")
        .values("pk", "username", "email", "is_active", "is_staff", "is_superuser", "groups")
    )


def user_change_form(client: Client, person) -> dict:
    page = client.get(admin_url("auth_user_change", person.pk))
    assert page.status_code == 200
    return form_data(page)


def change_person(entry: str, actor, person, **fields):
    """Change ``fields`` of ``person``'s account through ``entry``: their
    admin page, or the service."""
    if entry == "admin_change":
        client = signed_in(actor)
        data = {**user_change_form(client, person), **fields}
        return client.post(admin_url("auth_user_change", person.pk), data)
    assert entry == "service"
    return refused_by_service(lambda: people.person_update(actor=actor, person=person, **fields))


@pytest.mark.parametrize("entry", ["admin_change", "service"])
@pytest.mark.parametrize("field", ["is_staff", "is_superuser"])
def test_a_manager_never_makes_anyone_staff_or_superuser(alice, bob, entry, field):
    unchanged = Unchanged(person_rows)

    if entry == "admin_change":
        client = signed_in(alice)
        data = user_change_form(client, bob)
        assert field not in data  # shown read-only: not offered
        data[field] = "on"
        assert client.post(admin_url("auth_user_change", bob.pk), data).status_code == 302
    else:
        refused = refused_by_service(
            lambda: people.person_update(actor=alice, person=bob, **{field: True})
        )
        assert refused.field == field and "Only a superuser" in refused.message
    unchanged.check()


def deactivated(person):
    people.person_update(actor=None, person=person, is_active=False)


def out_of_manager(person):
    people.person_set_groups(actor=root_user(), person=person, groups=[])


def root_user():
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.mark.parametrize("entry", ["admin_change", "service"])
@pytest.mark.parametrize(
    "first",
    [None, deactivated, out_of_manager],
    ids=["as is", "deactivated first", "out of the Manager group first"],
)
def test_a_manager_never_changes_another_managers_email(alice, entry, first):
    mona = factories.manager("mona")
    if first is not None:
        # Neither opens the door: staff status, which only a superuser
        # changes, still marks the account.
        first(mona)
    unchanged = Unchanged(person_rows)

    outcome = change_person(entry, alice, mona, email="alice@evil.test")

    said = refusal(outcome, status=refused_with(entry))
    assert "password resets are sent to it" in said["email"]
    unchanged.check()


def set_password(entry: str, actor, person, password: str):
    if entry == "admin_password":
        data = {"password1": password, "password2": password, "usable_password": "true"}
        return signed_in(actor).post(admin_url("auth_user_password_change", person.pk), data)
    assert entry == "service"
    return refused_by_service(
        lambda: people.person_set_password(actor=actor, person=person, password=password)
    )


@pytest.mark.parametrize("entry", ["admin_password", "service"])
def test_a_manager_never_sets_another_managers_password(alice, entry):
    mona = factories.manager("mona")
    unchanged = Unchanged(person_rows)

    outcome = set_password(entry, alice, mona, "another horse battery staple")

    said = refusal(outcome, status=refused_with(entry))
    assert "sets the password of a staff or manager account" in said["password1"]
    unchanged.check()
    mona.refresh_from_db()
    assert mona.check_password("correct horse battery staple")


@pytest.mark.parametrize("entry", ["admin_change", "service"])
def test_a_manager_puts_people_in_the_guides_groups_only(alice, bob, entry):
    auditors = Group.objects.create(name="Auditors")
    responder = Group.objects.get(name=RESPONDER)
    unchanged = Unchanged(person_rows)

    if entry == "admin_change":
        client = signed_in(alice)
        data = {**user_change_form(client, bob), "groups": [responder.pk, auditors.pk]}
        outcome = client.post(admin_url("auth_user_change", bob.pk), data)
        # Only the groups a manager may give are offered (privileges.assignable_groups).
        said = f"Select a valid choice. {auditors.pk} is not one of the available choices."
    else:
        outcome = refused_by_service(
            lambda: people.person_set_groups(actor=alice, person=bob, groups=[responder, auditors])
        )
        said = "Only a superuser can put people in Auditors."

    assert refusal(outcome, status=refused_with(entry))["groups"] == said
    unchanged.check()


@pytest.mark.parametrize("entry", ["admin_add", "admin_change", "service"])
def test_a_username_the_user_model_does_not_allow_is_refused_everywhere(alice, bob, entry):
    unchanged = Unchanged(person_rows)

    if entry == "admin_add":
        form = {"username": "bob smith", "usable_password": "false"}
        outcome = signed_in(alice).post(admin_url("auth_user_add"), form)
    else:
        outcome = change_person(entry, alice, bob, username="bob smith")

    assert "Enter a valid username" in refusal(outcome, status=refused_with(entry))["username"]
    unchanged.check()
