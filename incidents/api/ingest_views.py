"""Alert ingestion endpoints: each tool's webhook, and PagerDuty Events API v2.

Senders retry on 5xx and drop on 4xx (Alertmanager, Datadog), so a 4xx is
only for input that can never be valid; a database outage answers 503.
Hostile input (not UTF-8, not JSON, NaN, huge integers, deep nesting, NUL
characters, lone surrogates, times out of range) is a 4xx naming the field,
never a 5xx: a sender would re-send it for ever. In a batch, the good alerts
are stored and the bad ones listed in ``refused`` (202); only a batch with no
good alert at all is a 400.
Plain Django views: no session, no CSRF (the secret is in the URL or body),
and as little work as possible before the 202.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..ingest import KINDS, parse_batch
from ..ingest.pagerduty import PagerDutyEventError, parse_event
from ..ingest.types import Batch, PayloadError
from ..services.alerts import NOT_STORED, SenderGone, alert_record
from ..services.integrations import integration_sender
from .ingest_limit import retry_after_if_limited

log = logging.getLogger(__name__)


def _body(request) -> bytes | None:
    """The raw body (the parsers decode it strictly), or None past 1 MiB."""
    try:
        return request.body
    except RequestDataTooBig:
        return None


def _refused(integration, batch: Batch) -> None:
    """Log which alerts were refused and why, by field: never the values (a
    sender's text may carry anything) and never the token; field paths are
    quoted, as a key may hold a line break."""
    if batch.refused:
        log.warning(
            "integration %s: refused %d of %d alerts (%s)",
            integration.pk,
            len(batch.refused),
            len(batch.refused) + len(batch.alerts),
            ", ".join(f"{r.index}: {(r.field or 'alert')[:80]!r}" for r in batch.refused[:20]),
        )


def _unavailable(message_key: str = "detail") -> JsonResponse:
    response = JsonResponse(
        {message_key: "The database is unavailable; retry later.", "status": "unavailable"},
        status=503,
    )
    response["Retry-After"] = "30"
    return response


def _unknown_token() -> JsonResponse:
    return JsonResponse({"detail": "No enabled integration has this token."}, status=404)


def _unknown_routing_key() -> JsonResponse:
    return _pd_invalid(
        "Unknown routing key", ["'routing_key' does not match an enabled integration"], status=404
    )


def _limited(retry_after: int, **body) -> JsonResponse:
    response = JsonResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@csrf_exempt
@require_POST
def integration_webhook(request, token: str, kind: str):
    """POST /api/v1/integrations/<token>/<kind>/ with the tool's own payload."""
    if kind not in KINDS:
        return JsonResponse(
            {"detail": f"Unknown integration kind {kind!r}; use one of {', '.join(KINDS)}."},
            status=404,
        )
    try:
        integration = integration_sender(token)
        if integration is None:
            return _unknown_token()
        if retry_after := retry_after_if_limited(integration):
            return _limited(retry_after, detail="Rate limit for this integration exceeded.")
        body = _body(request)
        if body is None:
            return JsonResponse({"detail": "Request body is larger than 1 MiB."}, status=413)
        try:
            batch = parse_batch(kind, body)
        except PayloadError as exc:
            answer = {"detail": exc.message}
            if exc.field:
                answer["errors"] = {exc.field: [exc.message]}
            return JsonResponse(answer, status=400)
        _refused(integration, batch)
        if batch.refused and not batch.alerts:
            return _all_refused(batch)
        outcomes = alert_record(integration=integration, kind=kind, alerts=batch.alerts)
    except SenderGone:
        return _unknown_token()
    except (OperationalError, InterfaceError):
        log.exception("database unavailable during ingestion")
        return _unavailable()
    incidents = sorted({o.incident for o in outcomes if o.incident})
    return JsonResponse(
        {
            "status": "accepted",
            "alerts": sum(o.action != NOT_STORED for o in outcomes),
            "incidents": incidents,
            "results": [o.as_dict() for o in outcomes],
            "refused": [r.as_dict() for r in batch.refused],
        },
        status=202,
    )


def _all_refused(batch: Batch) -> JsonResponse:
    errors: dict[str, list[str]] = {}
    for refusal in batch.refused:
        errors.setdefault(refusal.field or "alerts", []).append(refusal.message)
    first = batch.refused[0].message
    more = len(batch.refused) - 1
    return JsonResponse(
        {
            "detail": f"No alert could be accepted: {first}"
            + (f" (and {more} more)" if more else ""),
            "errors": errors,
            "refused": [r.as_dict() for r in batch.refused],
        },
        status=400,
    )


def _pd_invalid(message: str, errors: list[str], status: int = 400) -> JsonResponse:
    return JsonResponse(
        {"status": "invalid event", "message": message, "errors": errors}, status=status
    )


@csrf_exempt
@require_POST
def pagerduty_enqueue(request):
    """POST /v2/enqueue, compatible with PagerDuty Events API v2."""
    body = _body(request)
    if body is None:
        return _pd_invalid(
            "Event object is too large", ["Request body is larger than 1 MiB."], status=413
        )
    try:
        routing_key, alert = parse_event(body)
    except PagerDutyEventError as exc:
        return _pd_invalid(str(exc), list(exc.errors) or [str(exc)])
    try:
        integration = integration_sender(routing_key)
        if integration is None:
            return _unknown_routing_key()
        if retry_after := retry_after_if_limited(integration):
            return _limited(
                retry_after,
                status="throttle event",
                message="Requests for this integration key exceeded the limit.",
                errors=["Rate limit exceeded"],
            )
        outcome = alert_record(integration=integration, kind="pagerduty", alerts=[alert])[0]
    except SenderGone:
        return _unknown_routing_key()
    except (OperationalError, InterfaceError):
        log.exception("database unavailable during ingestion")
        return _unavailable("message")
    if outcome.action == NOT_STORED:
        return _pd_invalid("Event object is invalid", ["The event could not be stored"])
    return JsonResponse(
        {"status": "success", "message": "Event processed", "dedup_key": outcome.fingerprint},
        status=202,
    )
