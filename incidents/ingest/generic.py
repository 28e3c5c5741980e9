"""TreeBeard's generic alert JSON, for scripts and tools without a parser."""

from __future__ import annotations

from typing import Any

from .common import each_alert, one_alert, require_object, status_word
from .types import (
    Batch,
    ParsedAlert,
    PayloadError,
    check_text,
    clean_fingerprint,
    clean_url,
    derive_fingerprint,
    load_json,
    make_title,
    occurrence_key,
    one_line,
    parse_timestamp,
    receipt_key,
    text,
    to_float,
)


def parse_generic(payload: Any) -> list[ParsedAlert]:
    """TreeBeard's generic alert JSON, for scripts and tools without a parser.

    ``POST /api/v1/integrations/<token>/generic/`` with one alert::

        {
          "title": "Checkout 5xx above 5%",        # required, non-blank string
          "status": "firing",                      # firing | resolved | acknowledged
          "dedup_key": "checkout-5xx",             # or "fingerprint"
          "severity": "critical",                  # your tool's label or P0..P3
          "service": "checkout",
          "description": "Longer text, Markdown welcome.",
          "labels": {"env": "prod", "region": "eu-1"},
          "values": {"error_rate": 0.072, "p95_latency_ms": 3400},
          "url": "https://grafana.example.com/d/abc",
          "timestamp": "2026-11-28T00:59:31Z"
        }

    or several at once: ``{"alerts": [ {…}, {…} ]}`` (a bare JSON array of
    alerts is accepted too). Each alert is handled on its own.

    Fields:

    - ``title`` (required): one line, cut to 200 characters.
    - ``status`` (default ``firing``): also accepted ``triggered``/``alerting``
      (firing), ``ok``/``recovered``/``closed`` (resolved), ``ack`` (acknowledged).
    - ``dedup_key`` or ``fingerprint`` (string or number): alerts with the same
      key are the same ongoing problem — they join one incident, and
      ``resolved`` with that key resolves it. Without one, the key is derived
      from title, service and labels (never from the description or values).
    - ``severity``: the tool's own label (``critical``, ``error``/``high``,
      ``warning``, ``info``/``low``…) or ``P0``..``P3``; the integration's
      severity mapping applies to it.
    - ``service``: the affected service's name.
    - ``description``: free text (``message`` is accepted as an alias).
    - ``labels`` (and ``annotations``): objects of strings (numbers and
      booleans are turned into strings).
    - ``values``: numeric signals, e.g. ``error_rate`` (0.072 or 7.2 — a
      value ≤ 1 is a fraction), ``p95_latency_ms``; a string with a unit
      (``"7.2%"``, ``"3.4s"``) is kept as is in ``annotations``.
    - ``url``: an http(s) link back to the source.
    - ``timestamp``: ISO 8601 / RFC 3339 (or epoch seconds/milliseconds) of
      the event: when it started for ``firing``, when it ended for
      ``resolved``. Send it: it is what tells a retry of the same
      notification (same key: recorded once) from a new one. Without it every
      POST counts, like a PagerDuty event: a repeated ``firing`` joins the
      open incident of its dedup key, a repeated ``resolved`` changes nothing.

    Errors answer 400 and name the field, e.g. ``alerts[2].labels must be an object``.
    In a batch each alert stands alone: the webhook stores the good ones and
    lists the bad ones in ``refused`` (202); this function, the strict form,
    raises for the first bad one.
    """
    return batch(payload).strict()


def batch(payload: Any, *, headers=None) -> Batch:
    """``parse_generic`` keeping the good alerts of a batch (``each_alert``)."""
    payload = load_json(payload)
    if isinstance(payload, list):
        items, prefix = payload, ""
    else:
        payload = require_object(payload)
        if "alerts" not in payload:
            check_text(payload, path="")
            return Batch(one_alert(_generic_alert(payload, "")))
        items, prefix = payload["alerts"], "alerts"
        if not isinstance(items, list):
            raise PayloadError("alerts must be a list of alert objects", field="alerts")
        check_text({k: v for k, v in payload.items() if k != "alerts"}, path="")
    return each_alert(items, prefix, lambda item, where: _generic_alert(item, f"{where}."))


def _generic_alert(item: dict, prefix: str) -> ParsedAlert:
    def where(name: str) -> str:
        return f"{prefix}{name}"

    def string(name: str, *, numbers: bool = False) -> str:
        value = item.get(name)
        if value is None:
            return ""
        if isinstance(value, str):
            return value.strip()
        if numbers and isinstance(value, int | float) and not isinstance(value, bool):
            return text(value)
        raise PayloadError(f"{where(name)} must be a string", field=where(name))

    if "title" not in item or item["title"] is None:
        raise PayloadError(f"{where('title')} is required", field=where("title"))
    title = string("title")
    if not title:
        raise PayloadError(f"{where('title')} must not be blank", field=where("title"))

    word = string("status")
    status = status_word(word) if word else "firing"
    if status is None:
        raise PayloadError(
            f"{where('status')} must be one of firing, resolved, acknowledged (not {word!r})",
            field=where("status"),
        )

    labels = _scalar_map(item.get("labels"), where("labels"))
    annotations = _scalar_map(item.get("annotations"), where("annotations"))
    raw_values = item.get("values")
    if raw_values is not None and not isinstance(raw_values, dict):
        raise PayloadError(f"{where('values')} must be an object", field=where("values"))
    values = {}
    for key, value in (raw_values or {}).items():
        number = to_float(value)
        if number is not None:
            values[str(key)] = number
        elif isinstance(value, str) and value.strip():
            annotations.setdefault(str(key), value.strip())  # "7.2%", "3400ms": unit kept
        else:
            name = where(f"values.{key}")
            raise PayloadError(f"{name} must be a number", field=name)

    times = {}
    for name in ("timestamp", "starts_at", "ends_at"):
        value = item.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PayloadError(f"{where(name)} must be an ISO 8601 date-time", field=where(name))
        try:
            times[name] = parse_timestamp(value, strict=True, field=where(name))
        except ValueError:
            raise PayloadError(
                f"{where(name)} must be an ISO 8601 date-time, like 2026-11-28T00:59:31Z",
                field=where(name),
            ) from None
    stamp = times.get("timestamp")
    starts_at = times.get("starts_at") or (stamp if status != "resolved" else None)
    ends_at = times.get("ends_at") or (stamp if status == "resolved" else None)

    service = string("service")
    key = string("dedup_key", numbers=True) or string("fingerprint", numbers=True)
    fingerprint = clean_fingerprint(key) or derive_fingerprint(
        "generic", one_line(title), service, sorted(labels.items())
    )
    when = stamp or starts_at or ends_at
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        title=make_title(title, fallback="Alert"),
        description=string("description") or string("message"),
        source_severity=string("severity", numbers=True).lower(),
        service=service,
        labels=labels,
        annotations=annotations,
        values=values,
        starts_at=starts_at,
        ends_at=ends_at,
        url=clean_url(string("url")),
        occurrence_key=occurrence_key(fingerprint, status, when.isoformat())
        if when
        else receipt_key(fingerprint, status),
        raw=item,
    )


def _scalar_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object", field=where)
    result = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            name = f"{where}.{key}"
            raise PayloadError(f"{name} must be a string, number or boolean", field=name)
        result[str(key)] = text(item)
    return result
