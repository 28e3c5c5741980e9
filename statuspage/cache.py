"""Pre-rendered public pages (DESIGN.md "The public status page is read-mostly").

Every public change bumps ``PageState.version`` in its transaction and, after
commit, calls ``version_changed()``, which raises the shared version number in
Redis to the database's. The public views return their bytes through
``cached_response(request, key, build, content_type=...)``:

1. A hit is one Redis GET (the version number) and this process's own copy
   of ``key`` at that version: no database query, no unpickling.
2. Another process may have built it already: the bytes of (``key``,
   version) are in Redis.
3. Otherwise one process rebuilds it (a Redis lock, SET NX with a short
   expiry); the others serve the copy they had (or Redis' last copy) until
   it is there, or wait briefly for it when they have none.

Outages (the page must survive the outage it reports):

- PostgreSQL away: hits need no database. A miss that cannot build serves
  the last published copy (this process's, else Redis'), which says when it
  was last updated.
- Redis away: each request checks this process's copy against the
  database's version (one small query) and rebuilds it there when it moved.
  While Redis is away a bump is not seen there, so the process that noticed
  the outage raises Redis' version from the database once Redis answers
  again; and Redis' version expires after ``VERSION_SECONDS`` anyway, then
  is read from the database again.
- A failing server is not asked again for ``RETRY_SECONDS`` in this process,
  so an outage costs one timeout, not one per request.

Inside a transaction (``connection.in_atomic_block``) nothing is shared: the
bytes are built and answered as they are, since they may show what will
roll back. Views run outside transactions; the test suite runs most tests in
one, so they see every change at once (the cache's own tests commit).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from redis.backoff import NoBackoff
from redis.retry import Retry

from .models import PageState

log = logging.getLogger(__name__)

STATE_ID = 1
# What browsers and CDNs may do with the answers: keep them briefly, serve a
# stale one while fetching the next, and a stale one when we fail.
MAX_AGE = 10
STALE_WHILE_REVALIDATE = 60
STALE_IF_ERROR = 86_400
CACHE_CONTROL = (
    f"public, max-age={MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}, "
    f"stale-if-error={STALE_IF_ERROR}"
)
# Redis' version number expires after this (then read from the database):
# the backstop for a bump Redis missed.
VERSION_SECONDS = 60
COPY_SECONDS = 86_400  # bytes of one (key, version)
LAST_SECONDS = 30 * 86_400  # the last bytes of a key, whatever the version
LOCK_SECONDS = 10  # one rebuild at a time; a dead builder's lock expires
WAIT_SECONDS = 3.0  # how long a request with nothing to show waits for the builder
POLL_SECONDS = 0.02
RETRY_SECONDS = 2.0  # a failed server is left alone this long
REDIS_TIMEOUT = 0.5
# Bodies from this size on are also kept gzipped (smaller ones gain little).
GZIP_FROM = 1024

STORE_ERRORS = (redis.RedisError, OSError)


@dataclass(frozen=True, slots=True)
class Copy:
    """Pre-rendered bytes and their validators."""

    version: int
    body: bytes
    etag: str
    modified: int | None  # the page's updated_at, in seconds
    last_modified: str  # the same as an HTTP date ("" when unknown)
    content_type: str
    # The body gzipped once per copy, for the clients that accept it (every
    # browser and CDN); empty when it is too small to gain from it.
    gzipped: bytes = b""

    def dumps(self) -> bytes:
        fields = (self.version, self.body, self.etag, self.modified, self.content_type)
        return pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, data: bytes | None) -> Copy | None:
        if data is None:
            return None
        # Our own Redis, written only by cached_response.
        version, body, etag, modified, content_type = pickle.loads(data)  # noqa: S301
        return cls.make(version, body, etag, modified, content_type)

    @classmethod
    def make(cls, version, body, etag, modified, content_type) -> Copy:
        last_modified = http_date(modified) if modified is not None else ""
        gzipped = gzip.compress(body, 6, mtime=0) if len(body) >= GZIP_FROM else b""
        return cls(version, body, etag, modified, last_modified, content_type, gzipped)


class Breaker:
    """A server that just failed is not asked again for a while."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = 0.0

    def closed(self) -> bool:
        return self.until == 0.0 or time.monotonic() >= self.until

    def trip(self) -> None:
        self.until = time.monotonic() + self.seconds

    def reset(self) -> None:
        self.until = 0.0


# Raise the version to ARGV[1] unless it is higher already (two commits'
# hooks may run in either order); a new value lives ARGV[2] seconds.
RAISE_VERSION = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return wanted
end
return current
"""


class RedisStore:
    """The shared copies in Redis, under the cache's key prefix."""

    def __init__(self, location: str) -> None:
        self.client = redis.Redis.from_url(
            location,
            socket_connect_timeout=REDIS_TIMEOUT,
            socket_timeout=REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self.raise_script = self.client.register_script(RAISE_VERSION)
        self.version_key = django_cache.make_key("statuspage:version")

    def version(self) -> int | None:
        value = self.client.get(self.version_key)
        return None if value is None else int(value)

    def raise_version(self, version: int) -> int:
        return int(self.raise_script(keys=[self.version_key], args=[version, VERSION_SECONDS]))

    def set_version(self, version: int) -> None:
        self.client.set(self.version_key, version, ex=VERSION_SECONDS)

    def copy(self, key: str, version: int) -> Copy | None:
        return Copy.loads(self.client.get(self.copy_key(key, version)))

    def last(self, key: str) -> Copy | None:
        return Copy.loads(self.client.get(django_cache.make_key(f"statuspage:last:{key}")))

    def keep(self, key: str, versions: set[int], copy: Copy) -> None:
        data = copy.dumps()
        with self.client.pipeline(transaction=False) as pipe:
            for version in versions:
                pipe.set(self.copy_key(key, version), data, ex=COPY_SECONDS)
            pipe.set(django_cache.make_key(f"statuspage:last:{key}"), data, ex=LAST_SECONDS)
            pipe.execute()

    def lock(self, key: str, version: int) -> bool:
        return bool(self.client.set(self.lock_key(key, version), 1, nx=True, ex=LOCK_SECONDS))

    def unlock(self, key: str, version: int) -> None:
        self.client.delete(self.lock_key(key, version))

    @staticmethod
    def copy_key(key: str, version: int) -> str:
        return django_cache.make_key(f"statuspage:copy:{key}:{version}")

    @staticmethod
    def lock_key(key: str, version: int) -> str:
        return django_cache.make_key(f"statuspage:lock:{key}:{version}")


class DjangoCacheStore(RedisStore):
    """The same through Django's cache API, for the demo without Redis
    (a file cache: no atomic raise, good enough on one machine)."""

    def __init__(self) -> None:
        self.version_key = "statuspage:version"

    def version(self) -> int | None:
        return django_cache.get(self.version_key)

    def raise_version(self, version: int) -> int:
        current = django_cache.get(self.version_key) or 0
        if version > current:
            django_cache.set(self.version_key, version, VERSION_SECONDS)
            return version
        return current

    def set_version(self, version: int) -> None:
        django_cache.set(self.version_key, version, VERSION_SECONDS)

    def copy(self, key: str, version: int) -> Copy | None:
        return Copy.loads(django_cache.get(f"statuspage:copy:{key}:{version}"))

    def last(self, key: str) -> Copy | None:
        return Copy.loads(django_cache.get(f"statuspage:last:{key}"))

    def keep(self, key: str, versions: set[int], copy: Copy) -> None:
        data = copy.dumps()
        for version in versions:
            django_cache.set(f"statuspage:copy:{key}:{version}", data, COPY_SECONDS)
        django_cache.set(f"statuspage:last:{key}", data, LAST_SECONDS)

    def lock(self, key: str, version: int) -> bool:
        return django_cache.add(f"statuspage:lock:{key}:{version}", 1, LOCK_SECONDS)

    def unlock(self, key: str, version: int) -> None:
        django_cache.delete(f"statuspage:lock:{key}:{version}")


class State:
    """This process's side: its copies, the store, the breakers."""

    def __init__(self) -> None:
        self.copies: dict[str, Copy] = {}
        self.store: RedisStore | None = None
        self.redis = Breaker(RETRY_SECONDS)
        self.database = Breaker(RETRY_SECONDS)
        # Redis may have missed a bump: raise it from the database next time.
        self.reconcile = False
        self.building: dict[str, threading.Lock] = {}
        self.lock = threading.Lock()
        # The fast path's last answer from Redis and when (time.monotonic()).
        self.seen_version: int | None = None
        self.seen_at = 0.0

    def shared(self) -> RedisStore:
        if self.store is None:
            backend = settings.CACHES["default"]["BACKEND"]
            location = settings.CACHES["default"].get("LOCATION", "")
            if "redis" in backend.lower() and isinstance(location, str):
                self.store = RedisStore(location.split(",")[0])
            else:
                self.store = DjangoCacheStore()
        return self.store

    def build_lock(self, key: str) -> threading.Lock:
        with self.lock:
            return self.building.setdefault(key, threading.Lock())


STATE = State()


def reset() -> None:
    """Forget this process's copies, store and breakers (tests; settings changed)."""
    global STATE
    STATE = State()


def database_state() -> tuple[int, datetime | None] | None:
    """The page's version and updated_at, or None while the database is away."""
    if not STATE.database.closed():
        return None
    try:
        row = PageState.objects.filter(pk=STATE_ID).values_list("version", "updated_at").first()
    except DatabaseError as exc:
        STATE.database.trip()
        log.warning("Status page: database unavailable, serving the last copies: %s", exc)
        return None
    STATE.database.reset()
    return row or (1, None)


def redis_failed(exc: Exception) -> None:
    if STATE.redis.closed():
        log.warning("Status page: Redis unavailable, rendering from the database: %s", exc)
    STATE.redis.trip()
    STATE.reconcile = True


def version_changed() -> None:
    """A public change committed: raise the shared version to the database's
    (never lower: two commits' hooks may run in either order)."""
    STATE.seen_at = 0.0  # this process asks Redis again at once
    state = database_state()
    if state is None:
        return
    if not STATE.redis.closed():
        STATE.reconcile = True
        return
    try:
        STATE.shared().raise_version(state[0])
    except STORE_ERRORS as exc:
        redis_failed(exc)


def shared_version() -> int | None:
    """Redis' version number (read from the database when Redis has none, or
    may have missed a bump); None while Redis is away or neither knows."""
    if not STATE.redis.closed():
        return None
    store = STATE.shared()
    try:
        version = store.version()
        if version is None or STATE.reconcile:
            state = database_state()
            if state is None:
                return version
            version = store.raise_version(state[0])
            STATE.reconcile = False
        STATE.redis.reset()
        return version
    except STORE_ERRORS as exc:
        redis_failed(exc)
        return None


def build_copy(build: Callable[[], bytes], content_type: str) -> Copy:
    """Build the bytes, labelled with the version read BEFORE building: the
    bytes are at least as new as their label. Raises DatabaseError."""
    version, updated_at = PageState.objects.filter(pk=STATE_ID).values_list(
        "version", "updated_at"
    ).first() or (1, None)
    body = build()
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    modified = int(updated_at.timestamp()) if updated_at is not None else None
    return Copy.make(version, body, etag, modified, content_type)


def last_resort(key: str) -> Copy | None:
    """Whatever was published last: this process's copy, else Redis'."""
    copy = STATE.copies.get(key)
    if copy is None and STATE.redis.closed():
        try:
            copy = STATE.shared().last(key)
        except STORE_ERRORS as exc:
            redis_failed(exc)
        if copy is not None:
            STATE.copies[key] = copy
    return copy


def from_database(key: str, build: Callable[[], bytes], content_type: str) -> Copy | None:
    """Without Redis: this process's copy while the database's version is
    its own, else rebuilt here (one thread at a time)."""
    state = database_state()
    if state is None:
        return last_resort(key)
    copy = STATE.copies.get(key)
    if copy is not None and copy.version == state[0]:
        return copy
    with STATE.build_lock(key):
        copy = STATE.copies.get(key)
        if copy is not None and copy.version == state[0]:
            return copy
        try:
            copy = build_copy(build, content_type)
        except DatabaseError as exc:
            STATE.database.trip()
            log.warning("Status page: could not rebuild %s: %s", key, exc)
            return last_resort(key)
        STATE.copies[key] = copy
        return copy


def rebuild(key: str, version: int, build: Callable[[], bytes], content_type: str) -> Copy | None:
    """Nobody has (``key``, ``version``): build it once for everyone."""
    store = STATE.shared()
    try:
        mine = STATE.database.closed() and store.lock(key, version)
    except STORE_ERRORS as exc:
        redis_failed(exc)
        return from_database(key, build, content_type)
    if not mine:
        return wait_for(key, version, build, content_type)
    try:
        copy = build_copy(build, content_type)
    except DatabaseError as exc:
        STATE.database.trip()
        log.warning("Status page: could not rebuild %s: %s", key, exc)
        copy = None
    try:
        if copy is not None:
            publish(store, key, version, copy)
        store.unlock(key, version)
    except STORE_ERRORS as exc:
        redis_failed(exc)
    if copy is None:
        return last_resort(key)
    STATE.copies[key] = copy
    return copy


def publish(store: RedisStore, key: str, version: int, copy: Copy) -> None:
    """Share a new copy. Built from a database newer than Redis' version, it
    also serves that version and raises it; older (a database restored from
    a backup), it puts Redis' version back to the database's."""
    versions = {copy.version}
    if copy.version >= version:
        versions.add(version)
    store.keep(key, versions, copy)
    if copy.version > version:
        store.raise_version(copy.version)
    elif copy.version < version:
        store.set_version(copy.version)


def wait_for(key: str, version: int, build: Callable[[], bytes], content_type: str) -> Copy:
    """Someone else is rebuilding: serve the copy we had, else wait for theirs."""
    copy = last_resort(key)
    if copy is not None:
        return copy
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        try:
            copy = STATE.shared().copy(key, version)
        except STORE_ERRORS as exc:
            redis_failed(exc)
            break
        if copy is not None:
            STATE.copies[key] = copy
            return copy
    return from_database(key, build, content_type)


def current(key: str, build: Callable[[], bytes], content_type: str) -> Copy | None:
    version = shared_version()
    if version is None:
        return from_database(key, build, content_type)
    copy = STATE.copies.get(key)
    if copy is not None and copy.version == version:
        return copy
    try:
        shared = STATE.shared().copy(key, version)
    except STORE_ERRORS as exc:
        redis_failed(exc)
        return from_database(key, build, content_type)
    if shared is not None:
        STATE.copies[key] = shared
        return shared
    return rebuild(key, version, build, content_type)


def is_fresh(request: HttpRequest, copy: Copy) -> bool:
    """RFC 9110 13.2.2: If-None-Match when given, else If-Modified-Since."""
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        return "*" in tags or any(tag.removeprefix("W/") == copy.etag for tag in tags)
    if_modified_since = request.META.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since and copy.modified is not None:
        since = parse_http_date_safe(if_modified_since)
        return since is not None and copy.modified <= since
    return False


def unavailable() -> HttpResponse:
    response = HttpResponse(
        b"The status page is unavailable right now; try again in a minute.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


def accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")


def respond(request: HttpRequest, copy: Copy) -> HttpResponse:
    gzipped = bool(copy.gzipped) and accepts_gzip(request)
    if is_fresh(request, copy):
        response = HttpResponseNotModified()
    elif gzipped:
        response = HttpResponse(copy.gzipped, content_type=copy.content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(copy.body, content_type=copy.content_type)
    if copy.gzipped:
        # Caches keep one copy per encoding (never per cookie: there is none).
        response["Vary"] = "Accept-Encoding"
    # The gzipped bytes are another representation: a weak validator of the
    # same tag (If-None-Match compares weakly, so either revalidates).
    response["ETag"] = f"W/{copy.etag}" if gzipped else copy.etag
    if copy.last_modified:
        response["Last-Modified"] = copy.last_modified
    response["Cache-Control"] = CACHE_CONTROL
    return response


def cached_response(
    request: HttpRequest,
    key: str,
    build: Callable[[], bytes],
    *,
    content_type: str,
    valid_until: datetime | None = None,
) -> HttpResponse:
    """The public bytes named ``key`` (one per page and format; ``build()``
    makes them from the database) with ETag, Last-Modified and
    Cache-Control, or 304 when the client's copy is current. Touches neither
    the session nor the CSRF token: no cookie, no ``Vary: Cookie``.
    ``valid_until``: when the path names another key (the home page's bars
    move on at midnight), so the fast path asks the view again then."""
    if connection.in_atomic_block:
        copy = build_copy(build, content_type)
    else:
        copy = current(key, build, content_type)
        if copy is None:
            return unavailable()
    response = respond(request, copy)
    response.statuspage_key = key
    response.statuspage_valid_until = valid_until
    return response


def recent_version() -> int | None:
    """Redis' version, asked at most once per ``settings.STATUS_PAGE_VERSION_CHECK_MS``
    by this process's fast path: under load the round trip per hit, not the
    bytes, is what a hit costs. A change committed here is seen at once
    (``version_changed``); one made by another process within that many
    milliseconds."""
    lease = settings.STATUS_PAGE_VERSION_CHECK_MS / 1000
    now = time.monotonic()
    if lease and STATE.seen_version is not None and now - STATE.seen_at < lease:
        return STATE.seen_version
    version = shared_version()
    STATE.seen_version, STATE.seen_at = version, now
    return version


def hit(key: str) -> Copy | None:
    """This process's copy of ``key`` when it is current, else None."""
    if connection.in_atomic_block:
        return None
    version = recent_version()
    copy = STATE.copies.get(key)
    if copy is None or version is None or copy.version != version:
        return None
    return copy
