"""Alert ingestion, the pure part: each tool's payload parsed into
``ParsedAlert``s (``parsers``, ``pagerduty``) and the guide's severity
criteria applied to them (``severity``). No database access here; storing
and routing alerts is ``incidents.alerts``."""

from .types import ParsedAlert, PayloadError

__all__ = ["ParsedAlert", "PayloadError"]
