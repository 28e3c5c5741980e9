"""The Redis cache of the test suite, confined to its key space."""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache


class KeySpaceRedisCache(RedisCache):
    """Django's Redis cache whose ``clear()`` deletes only the keys of this
    cache's ``KEY_PREFIX``. Django's own empties the whole Redis database
    (FLUSHDB), which would wipe what a test in another pytest-xdist worker
    is counting."""

    def clear(self) -> None:
        client = self._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
