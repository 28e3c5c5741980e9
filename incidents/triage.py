"""Triage of reports filed without a severity: the guide's criteria applied
to what the reporter wrote (the same rules as for monitoring alerts)."""

from __future__ import annotations

from .ingest.severity import suggest_severity
from .ingest.types import ParsedAlert


def suggest_for_report(*, title: str, summary: str = "", impact: str = "") -> tuple[str, list[str]]:
    """Return the suggested severity and the reasons, for the timeline."""
    text = "\n".join(part for part in (summary, impact) if part)
    report = ParsedAlert(fingerprint="report", status="firing", title=title, description=text)
    return suggest_severity(report)
