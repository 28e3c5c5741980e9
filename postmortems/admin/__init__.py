"""The post-mortems' admin pages, one module per topic, each saving through
the services (``common.ServiceAdmin``)."""

from . import actions  # noqa: F401  (registers ActionItem and Tracker)
