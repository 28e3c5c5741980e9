"""Settings for benchmarks: the product's, plus a bare baseline view."""

from treebeard_ir.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
