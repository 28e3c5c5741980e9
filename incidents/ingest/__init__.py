"""Alert ingestion, the pure part: each tool's payload parsed into
``ParsedAlert``s, one module per tool, and the guide's severity criteria
applied to them (``severity``). No database access here; storing and routing
alerts is ``incidents.services.alerts``.

Every parser is liberal in what it accepts (real tools send nulls, empty
maps, numbers as strings, Go zero times, nanosecond fractions), exact in what
it extracts, and raises ``PayloadError`` naming the field only for input that
can never be valid: a 4xx makes Alertmanager and Datadog drop the
notification for good. Whatever the input, a parser returns alerts whose
every field fits its column (``types.check_alert``) or raises ``PayloadError``.

One payload may hold several alerts (Alertmanager/Grafana groups); each is
processed on its own, keyed by its own fingerprint, with its own status.
``parse_batch`` keeps the good alerts of a batch and lists the refused ones;
``parse`` refuses the whole body for the first bad alert.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import alertmanager, datadog, generic, grafana, pagerduty, sentry
from .types import Batch, ParsedAlert, PayloadError

# kind -> the tool module's ``batch(payload, headers=...)``.
PARSERS: dict[str, Callable[..., Batch]] = {
    "alertmanager": alertmanager.batch,
    "grafana": grafana.batch,
    "datadog": datadog.batch,
    "sentry": sentry.batch,
    "generic": generic.batch,
    "pagerduty": pagerduty.batch,
}
# The kinds with a webhook URL of their own; PagerDuty events go to /v2/enqueue.
KINDS = ("alertmanager", "grafana", "datadog", "sentry", "generic")


def parse_batch(kind: str, payload: Any, *, headers: Mapping[str, str] | None = None) -> Batch:
    """Parse ``payload`` (decoded JSON, or the raw body as bytes) sent by a
    tool of ``kind`` into the alerts to store and the ones refused.

    ``PayloadError`` only for a body that holds no alert at all (not JSON, not
    an object, ``alerts`` not a list, a bad single-alert body)."""
    try:
        parser = PARSERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown alert kind {kind!r}; expected one of {', '.join(KINDS)}"
        ) from None
    return parser(payload, headers=headers)


def parse(
    kind: str, payload: Any, *, headers: Mapping[str, str] | None = None
) -> list[ParsedAlert]:
    """``parse_batch``, refusing the whole body (``PayloadError``) for the
    first refused alert."""
    return parse_batch(kind, payload, headers=headers).strict()


__all__ = ["KINDS", "PARSERS", "Batch", "ParsedAlert", "PayloadError", "parse", "parse_batch"]
