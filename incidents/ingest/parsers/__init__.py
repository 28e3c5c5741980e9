"""Each monitoring tool's webhook payload -> a list of ``ParsedAlert``s.

Liberal in what we accept (real tools send nulls, empty maps, numbers as
strings, Go zero times, nanosecond fractions), exact in what we extract, and
``PayloadError`` naming the field only for input that can never be valid:
a 4xx makes Alertmanager and Datadog drop the notification for good.

One payload may hold several alerts (Alertmanager/Grafana groups); each is
processed on its own, keyed by its own fingerprint, with its own status: a
group whose status is "firing" may contain resolved alerts. ``parse_batch``
keeps the good alerts of a batch and lists the refused ones; ``parse`` and
the per-tool functions refuse the whole body for the first bad alert.

Whatever the input, a parser returns alerts whose every field fits its
column (``types.check_alert``) or raises ``PayloadError``: nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import Batch, ParsedAlert
from .alertmanager import alertmanager_batch, grafana_batch, parse_alertmanager, parse_grafana
from .common import SERVICE_LABELS, SEVERITY_LABELS, header
from .datadog import parse_datadog
from .generic import generic_batch, parse_generic
from .sentry import parse_sentry

KINDS = ("alertmanager", "grafana", "datadog", "sentry", "generic")


def parse_batch(kind: str, payload: Any, *, headers: Mapping[str, str] | None = None) -> Batch:
    """Parse ``payload`` (decoded JSON, or the raw body as bytes) sent by a
    tool of ``kind`` into the alerts to store and the ones refused.

    ``PayloadError`` only for a body that holds no alert at all (not JSON, not
    an object, ``alerts`` not a list, a bad single-alert body). ``headers`` is
    optional: Sentry's ``Sentry-Hook-Resource`` is used as a hint, but every
    body is understood on its own."""
    if kind == "alertmanager":
        return alertmanager_batch(payload)
    if kind == "grafana":
        return grafana_batch(payload)
    if kind == "generic":
        return generic_batch(payload)
    if kind == "datadog":
        return Batch(parse_datadog(payload))
    if kind == "sentry":
        return Batch(parse_sentry(payload, resource=header(headers, "Sentry-Hook-Resource")))
    if kind == "pagerduty":
        from ..pagerduty import parse_event

        return Batch([parse_event(payload)[1]])
    raise ValueError(f"unknown alert kind {kind!r}; expected one of {', '.join(KINDS)}")


def parse(
    kind: str, payload: Any, *, headers: Mapping[str, str] | None = None
) -> list[ParsedAlert]:
    """``parse_batch``, refusing the whole body (``PayloadError``) for the
    first refused alert."""
    return parse_batch(kind, payload, headers=headers).strict()


__all__ = [
    "KINDS",
    "SERVICE_LABELS",
    "SEVERITY_LABELS",
    "parse",
    "parse_alertmanager",
    "parse_batch",
    "parse_datadog",
    "parse_generic",
    "parse_grafana",
    "parse_sentry",
]
