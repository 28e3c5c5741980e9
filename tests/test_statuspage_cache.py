"""The pre-rendered public bytes (statuspage/cache.py), with real commits:
a hit runs no query, every kind of public change is seen at once, one
rebuild however many requests miss together, 304s, and no cookie.

Transactional: ``page_changed`` tells the cache after commit, and inside a
transaction the cache shares nothing (see its docstring)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils.http import http_date

from incidents import clock
from statuspage import cache
from statuspage.models import Maintenance
from statuspage.services.components import (
    component_create,
    component_set_status,
    component_update,
    group_create,
    group_update,
)
from statuspage.services.incidents import (
    incident_publish,
    public_incident_update,
    public_update_post,
)
from statuspage.services.page import page_changed
from tests import factories
from tests.sp_serve_support import STATUS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.transactional]

SUMMARY = "/api/v2/summary.json"


@pytest.fixture(autouse=True)
def fresh_process():
    cache.reset()
    yield
    cache.reset()


@pytest.fixture
def root(db):
    # Transactional tests flush the role groups the migrations made.
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


def get(client, path=SUMMARY, **headers):
    response = client.get(path, HTTP_HOST=STATUS, **headers)
    assert response.status_code in (200, 304), response.content[:300]
    return response


def test_a_hit_runs_no_query(client, root, django_assert_num_queries):
    component_create(actor=root, name="API")
    first = get(client)

    with django_assert_num_queries(0):
        again = get(client)

    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_a_hit_after_another_process_built_it_runs_no_query_either(
    client, root, django_assert_num_queries
):
    component_create(actor=root, name="API")
    first = get(client)
    cache.reset()  # a process that never built it

    with django_assert_num_queries(0):
        again = get(client)

    assert again.content == first.content


def test_the_headers_suit_a_cdn_and_set_no_cookie(client, root):
    component_create(actor=root, name="API")
    response = get(client)

    match = re.fullmatch(
        r"public, max-age=(\d+), stale-while-revalidate=(\d+), stale-if-error=(\d+)",
        response["Cache-Control"],
    )
    assert match and int(match[1]) <= 60 < int(match[2]) + int(match[1])
    assert response["ETag"].startswith('"') and response["Last-Modified"]
    assert "Set-Cookie" not in response and not response.cookies
    assert response.get("Vary", "Accept-Encoding") == "Accept-Encoding"


def test_clients_that_accept_gzip_get_the_same_page_gzipped(client, root):
    import gzip

    plain = client.get("/", HTTP_HOST=STATUS)
    packed = client.get("/", HTTP_HOST=STATUS, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert packed["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 3
    assert packed["Vary"] == plain["Vary"] == "Accept-Encoding"
    assert packed["ETag"] == f"W/{plain['ETag']}"
    # Either validator revalidates either representation.
    again = client.get(
        "/", HTTP_HOST=STATUS, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=plain["ETag"]
    )
    assert again.status_code == 304


def test_a_signed_in_person_on_the_main_host_gets_no_cookie_and_no_vary(client, root):
    client.force_login(root)

    for path in ["/status" + SUMMARY, "/status/api/v2/components.json"]:
        response = client.get(path, HTTP_HOST="127.0.0.1")
        assert response.status_code == 200
        assert "Set-Cookie" not in response and not response.cookies, response.cookies
        assert "Cookie" not in response.get("Vary", ""), response["Vary"]
        assert "csrf" not in response.content.decode().lower()


def test_if_none_match_answers_304_without_a_query(client, root, django_assert_num_queries):
    etag = get(client)["ETag"]

    with django_assert_num_queries(0):
        same = get(client, HTTP_IF_NONE_MATCH=etag)
        weak = get(client, HTTP_IF_NONE_MATCH=f'"other", W/{etag}')
        other = get(client, HTTP_IF_NONE_MATCH='"other"')

    assert same.status_code == weak.status_code == 304
    assert same.content == b"" and same["ETag"] == etag and same["Cache-Control"]
    assert other.status_code == 200


def test_if_modified_since_answers_304_until_the_page_changes(client, root, time_machine):
    component_create(actor=root, name="API")
    response = get(client)
    modified = response["Last-Modified"]

    assert get(client, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    # HTTP dates count whole seconds (clients that send If-None-Match too,
    # as browsers and CDNs do, see a change within the second by its ETag).
    time_machine.move_to(clock.now() + timedelta(seconds=2))
    component_create(actor=root, name="Web")
    assert get(client, HTTP_IF_MODIFIED_SINCE=modified).status_code == 200
    earlier = http_date(clock.now().timestamp() - 3600)
    assert get(client, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client, root):
    component_create(actor=root, name="API")
    response = get(client)

    stale = get(
        client, HTTP_IF_NONE_MATCH='"old"', HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]
    )

    assert stale.status_code == 200


# Every kind of public change: made after the page was cached, seen at once.


def create_component(root, things):
    component_create(actor=root, name="Brand new component")
    return "Brand new component"


def edit_component(root, things):
    component_update(actor=root, component=things["api"], name="Renamed API")
    return "Renamed API"


def set_component_status(root, things):
    component_set_status(actor=root, component=things["api"], status="major_outage")
    return "major_outage"


def edit_group(root, things):
    group_update(actor=root, group=things["group"], name="Renamed group")
    return "Renamed group"


def publish_incident(root, things):
    incident_publish(
        actor=root,
        incident=things["incident"],
        title="Published just now",
        impact="minor",
        message="Looking into it.",
    )
    return "Published just now"


def post_public_update(root, things):
    publish_incident(root, things)
    public = things["incident"].public_incident
    get(things["client"], "/api/v2/incidents.json")
    public_update_post(actor=root, public_incident=public, status="identified", body="Found it.")
    return "Found it."


def rename_public_incident(root, things):
    publish_incident(root, things)
    public = things["incident"].public_incident
    get(things["client"], "/api/v2/incidents.json")
    public_incident_update(actor=root, public_incident=public, name="Better name")
    return "Better name"


def schedule_maintenance(root, things):
    now = clock.now()
    with transaction.atomic():
        Maintenance.objects.create(
            name="Maintenance window",
            scheduled_for=now + timedelta(days=1),
            scheduled_until=now + timedelta(days=1, hours=1),
            created_at=now,
            updated_at=now,
        )
        page_changed()
    return "Maintenance window"


CHANGES = [
    create_component,
    edit_component,
    set_component_status,
    edit_group,
    publish_incident,
    post_public_update,
    rename_public_incident,
    schedule_maintenance,
]
WHERE = {
    edit_group: "/api/v2/components.json",
    post_public_update: "/api/v2/incidents.json",
    rename_public_incident: "/api/v2/incidents.json",
    schedule_maintenance: "/api/v2/scheduled-maintenances.json",
}


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_every_public_change_is_served_at_once(client, root, change, django_assert_num_queries):
    group = group_create(actor=root, name="Core")
    things = {
        "client": client,
        "group": group,
        "api": component_create(actor=root, name="API", group=group),
        "incident": factories.declare(actor=root),
    }
    path = WHERE.get(change, SUMMARY)
    before = get(client, path)
    with django_assert_num_queries(0):
        assert get(client, path).content == before.content

    expected = change(root, things)

    after = get(client, path)
    assert expected in after.content.decode()
    assert after["ETag"] != before["ETag"]
    with django_assert_num_queries(0):
        assert get(client, path).content == after.content


def test_a_version_redis_missed_is_read_again_when_its_key_expires(client, root):
    get(client)
    with transaction.atomic():  # a bump whose on-commit news never reached Redis
        component_create(actor=root, name="Unseen")
        transaction.get_connection().run_on_commit = []

    assert b"Unseen" not in get(client).content  # Redis still says the old version
    cache.STATE.shared().client.delete(cache.STATE.shared().version_key)

    assert b"Unseen" in get(client).content


def test_the_shared_version_only_ever_rises(db):
    store = cache.STATE.shared()

    assert store.raise_version(7) == 7
    assert store.raise_version(3) == 7
    assert store.version() == 7
    assert 0 < store.client.ttl(store.version_key) <= cache.VERSION_SECONDS


def test_inside_a_transaction_nothing_is_shared(client, root):
    store = cache.STATE.shared()
    with transaction.atomic():
        component_create(actor=root, name="Not yet committed")
        inside = client.get(SUMMARY, HTTP_HOST=STATUS)
        assert b"Not yet committed" in inside.content
        transaction.set_rollback(True)

    assert store.version() is None and cache.STATE.copies == {}
    assert b"Not yet committed" not in get(client).content


# One rebuild, however many requests miss at once.


def concurrently(count: int, target) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            results[i] = target()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


class SlowBuild:
    """A build that takes a while and counts itself."""

    def __init__(self, seconds: float = 0.3) -> None:
        self.seconds, self.calls, self.lock = seconds, 0, threading.Lock()

    def __call__(self) -> bytes:
        with self.lock:
            self.calls += 1
            n = self.calls
        threading.Event().wait(self.seconds)
        return f"build {n}".encode()

    def serve(self):
        request = RequestFactory().get("/x", HTTP_HOST=STATUS)
        return cache.cached_response(request, "test:slow", self, content_type="text/plain")


def test_many_requests_missing_at_once_build_once(db):
    build = SlowBuild()

    responses = concurrently(12, build.serve)

    assert build.calls == 1
    assert {r.content for r in responses} == {b"build 1"}


def test_after_a_change_one_rebuilds_while_the_others_serve_the_previous_copy(db, root):
    build = SlowBuild()
    assert build.serve().content == b"build 1"
    component_create(actor=root, name="Changed")

    responses = concurrently(12, build.serve)

    assert build.calls == 2
    assert {r.content for r in responses} <= {b"build 1", b"build 2"}
    assert b"build 2" in {r.content for r in responses}
    assert build.serve().content == b"build 2"


def test_a_process_without_a_copy_waits_for_the_builder_of_another(db, root):
    build = SlowBuild(seconds=0.5)
    assert build.serve().content == b"build 1"
    component_create(actor=root, name="Changed")
    store = cache.STATE.shared()
    store.client.delete(cache.django_cache.make_key("statuspage:last:test:slow"))
    other = threading.Thread(target=lambda: (build.serve(), connection.close()))
    other.start()
    threading.Event().wait(0.1)
    cache.reset()  # this "process" has no copy at all

    assert build.serve().content == b"build 2"
    other.join()
    assert build.calls == 2


def test_the_fast_path_asks_redis_at_most_once_per_window_but_sees_its_own_changes_at_once(
    settings, monkeypatch
):
    settings.STATUS_PAGE_VERSION_CHECK_MS = 50
    asked = []
    versions = iter([7, 8, 9])

    def redis_version():
        asked.append(1)
        return next(versions)

    monkeypatch.setattr(cache, "shared_version", redis_version)
    clock_now = [100.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: clock_now[0])

    assert cache.recent_version() == 7
    clock_now[0] += 0.049
    assert cache.recent_version() == 7  # another process's bump waits for the window
    clock_now[0] += 0.002
    assert cache.recent_version() == 8
    monkeypatch.setattr(cache, "database_state", lambda: None)
    cache.version_changed()  # a change committed here: asked again at once
    assert cache.recent_version() == 9
    assert len(asked) == 3
