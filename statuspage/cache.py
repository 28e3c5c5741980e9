"""Pre-rendered public pages (DESIGN.md "The public status page is read-mostly").

Interface used by the services: ``version_changed()`` after a public change
commits. The serving side is ``statuspage/views.py``.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

log = logging.getLogger(__name__)

VERSION_KEY = "statuspage:version"


def version_changed() -> None:
    """Forget the current version; the next request reads it again."""
    try:
        cache.delete(VERSION_KEY)
    except Exception as exc:  # Redis down: the readers fall back to the database
        log.warning("Could not invalidate the status page cache: %s", exc)
