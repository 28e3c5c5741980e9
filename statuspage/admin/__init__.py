"""The status page in the admin: one module per topic, imported here so
Django's autodiscovery registers them."""

from . import subscribers  # noqa: F401
