"""The page's version: every public change bumps it in its transaction, and
the pre-rendered copies (statuspage/cache.py) are rebuilt once after commit."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from incidents import clock

from .. import cache
from ..models import PageState

STATE_ID = 1


def page_changed() -> None:
    """Something public changed in this transaction: bump the version (the
    row lock also orders concurrent publishers) and, after commit, tell the
    cache, which drops its copies once for everyone."""
    now = clock.now()
    if not PageState.objects.filter(pk=STATE_ID).update(version=F("version") + 1, updated_at=now):
        try:
            with transaction.atomic():
                PageState.objects.create(pk=STATE_ID, version=2, updated_at=now)
        except IntegrityError:  # created meanwhile by another transaction
            PageState.objects.filter(pk=STATE_ID).update(version=F("version") + 1, updated_at=now)
    transaction.on_commit(cache.version_changed)


def current() -> PageState:
    state = PageState.objects.filter(pk=STATE_ID).first()
    return state or PageState(pk=STATE_ID, version=1, updated_at=clock.now())
