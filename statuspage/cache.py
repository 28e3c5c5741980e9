"""Pre-rendered public pages (DESIGN.md "The public status page is read-mostly").

Interface used by the services: ``version_changed()`` after a public change
commits. The serving side is ``statuspage/views.py``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

VERSION_KEY = "statuspage:version"


def version_changed() -> None:
    """Forget the current version; the next request reads it again."""
    try:
        cache.delete(VERSION_KEY)
    except Exception as exc:  # Redis down: the readers fall back to the database
        log.warning("Could not invalidate the status page cache: %s", exc)


def cached_response(
    request: HttpRequest,
    key: str,
    build: Callable[[], bytes],
    *,
    content_type: str,
) -> HttpResponse:
    """The public bytes named ``key`` (one per page and format), built by
    ``build()`` when there is no current copy, with the caching headers.

    FIRST VERSION: builds on every request; the pre-rendered copies come next.
    """
    body = build()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=30, stale-while-revalidate=60"
    return response
