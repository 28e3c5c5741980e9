"""What every tool's parser shares: decoding, type checks, label lookups, and
the batch loop that parses each alert of a notification on its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..safejson import find_problem
from .types import (
    Batch,
    ParsedAlert,
    PayloadError,
    Refusal,
    check_alert,
    check_text,
    clean_fingerprint,
    load_json,
    to_float,
)

# Labels that name the affected service, most specific first.
SERVICE_LABELS = (
    "service",
    "service_name",
    "app",
    "application",
    "app_kubernetes_io_name",
    "component",
    "job",
)
SEVERITY_LABELS = ("severity", "priority", "level")


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower().replace("_", "-").removeprefix("http-") == wanted:
            return str(value)
    return None


def load_object(payload: Any) -> dict:
    """A body that must be one JSON object, decoded, every string in it
    storable (a NUL or a lone surrogate is refused, naming where it is)."""
    body = require_object(load_json(payload))
    check_text(body, path="")
    return body


def require_object(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise PayloadError(f"the body must be a JSON object, not {json_type(payload)}")
    return payload


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def first(mapping: Mapping[str, str], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = mapping.get(key)
        if value:
            return value.strip()
    return ""


def float_map(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    numbers = {}
    for key, item in value.items():
        number = to_float(item)
        if number is not None:
            numbers[str(key)] = number
    return numbers


def one_alert(alert: ParsedAlert) -> list[ParsedAlert]:
    """The only alert of a body, checked against the columns."""
    return [check_alert(alert, where="")]


def each_alert(items: list, prefix: str, parse_item: Callable[[dict, str], ParsedAlert]) -> Batch:
    """Parse every item of a batch on its own (``parse_item(item, where)``).

    An item that is not an object, holds a string that cannot be stored, or
    that ``parse_item`` refuses is listed in ``refused`` with its index, its
    own fingerprint when it sent a usable one, the field and the message;
    the others are kept. Monitoring tools re-send a whole batch on a 5xx and
    drop it on a 4xx, so one bad alert must never cost the rest.
    """
    batch = Batch()
    for index, item in enumerate(items):
        where = f"{prefix}[{index}]"
        try:
            if not isinstance(item, dict):
                raise PayloadError(f"{where} must be an object", field=where)
            check_text(item, path=where)
            batch.alerts.append(check_alert(parse_item(item, where), where=where))
        except PayloadError as exc:
            batch.refused.append(
                Refusal(
                    index=index,
                    fingerprint=_own_fingerprint(item),
                    field=exc.field,
                    message=exc.message,
                )
            )
    return batch


def _own_fingerprint(item: Any) -> str | None:
    """The key a refused item named itself by, when it is usable text."""
    if not isinstance(item, dict):
        return None
    for name in ("fingerprint", "dedup_key"):
        value = item.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            if isinstance(value, str) and find_problem(value):
                return None
            return clean_fingerprint(value) or None
    return None


# Status words of the generic format, also read from Datadog's "status".
GENERIC_STATUS = {
    "firing": "firing",
    "fire": "firing",
    "triggered": "firing",
    "trigger": "firing",
    "alerting": "firing",
    "alert": "firing",
    "problem": "firing",
    "open": "firing",
    "active": "firing",
    "resolved": "resolved",
    "resolve": "resolved",
    "ok": "resolved",
    "recovered": "resolved",
    "closed": "resolved",
    "cleared": "resolved",
    "clear": "resolved",
    "normal": "resolved",
    "acknowledged": "acknowledged",
    "acknowledge": "acknowledged",
    "ack": "acknowledged",
    "acked": "acknowledged",
}


def status_word(value: str) -> str | None:
    return GENERIC_STATUS.get(value.strip().lower()) if value else None
