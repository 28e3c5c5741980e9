"""Severity suggestion: the guide's criteria applied to an alert.

``suggest_severity(alert, mapping)`` returns ("P0".."P3", reasons). Every
signal found gives a severity and a sentence for the incident timeline; the
suggestion is the MOST severe of them (lowest P number). The signals:

1. **Source severity** — the tool's own label (``alert.source_severity``).
   The integration's ``mapping`` (tool label -> "P0".."P3", matched without
   regard to case) wins for the labels it names; otherwise the default map:
   critical/fatal/emergency -> P0, error/high/major -> P1, warning/warn/
   medium -> P2, info/low/minor/debug -> P3; our own ``P0``..``P3``, ``SEV0``..
   ``SEV3`` and ``0``..``3`` map to themselves (``P4``/``P5``/``SEV4``… -> P3).
   A tool with a P1..P5 scale (Datadog, Opsgenie) where P1 means "critical"
   needs a mapping such as ``{"p1": "P0", "p2": "P1", ...}``.
2. **Error rate** (guide: > 5 % -> P0, 2-5 % -> P1, 1-2 % -> P2, < 1 % -> P3)
   from ``values``, ``labels`` or ``annotations`` whose key names an error
   rate (``error_rate``, ``errorRate``, ``error_rate_percent``, "error rate",
   ``5xx_rate``, ``failure_rate``…; keys naming a threshold/target/SLO are
   not measurements and are skipped). Units: a ``%`` suffix or a key saying
   percent/pct means percent; a key saying ratio/fraction means a fraction;
   otherwise a value ≤ 1 is a fraction (0.07 = 7 %) and a larger one a
   percentage. Also read from the title/description text ("5xx rate is 12%").
   Several readings: the highest counts.
3. **P95 latency** > 3 s -> at least P1, from keys naming p95 (``p95``,
   ``latency_p95``, ``p95_latency_ms``, ``p95_latency_seconds``…) or text
   ("P95 latency 3.4s"). Unit from the value's suffix ("3400ms", "3.4s"),
   else the key ("_ms", "_seconds"), else a bare number ≥ 100 is taken as
   milliseconds and a smaller one as seconds. Latency at or under 3 s says
   nothing about severity, so it gives no signal.
4. **Keywords** in the title, description, label and annotation values
   (CamelCase alert names split, ``_``/``-`` read as spaces, URLs skipped):
   complete/total outage, API/site/service down or unavailable, data loss,
   data corruption, security breach/compromise, datastore (database,
   Postgres, MySQL, MongoDB, Redis) down or unavailable -> P0.

**No signal at all -> P2 (Medium).** An alert that a monitor raised but
that carries no severity, rate, latency or keyword is a real but unqualified
problem: P2 has someone look within the hour during the day (Slack) without
paging anyone at night for something nobody classified, and it is never
buried in the next-business-day digest the way P3 would be. Responders
re-classify it in one click; the reason on the timeline says it was a default.

Deterministic: the same alert and mapping always give the same answer and
the same reasons, in the order above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .types import ParsedAlert, to_float

LEVELS = ("P0", "P1", "P2", "P3")
DEFAULT_SEVERITY = "P2"
NO_SIGNAL_REASON = (
    "no severity signal (no source severity, error rate, P95 latency or guide keyword); default P2"
)

DEFAULT_LABEL_MAP: dict[str, str] = {
    # P0 — critical
    "critical": "P0",
    "crit": "P0",
    "fatal": "P0",
    "emergency": "P0",
    "emerg": "P0",
    "panic": "P0",
    "disaster": "P0",
    "blocker": "P0",
    # P1 — high
    "error": "P1",
    "err": "P1",
    "high": "P1",
    "major": "P1",
    "severe": "P1",
    # P2 — medium
    "warning": "P2",
    "warn": "P2",
    "medium": "P2",
    "moderate": "P2",
    "average": "P2",
    # P3 — low
    "info": "P3",
    "information": "P3",
    "informational": "P3",
    "low": "P3",
    "minor": "P3",
    "notice": "P3",
    "debug": "P3",
    "trivial": "P3",
}
for _n in range(6):
    _level = LEVELS[min(_n, 3)]
    DEFAULT_LABEL_MAP.update({f"p{_n}": _level, f"sev{_n}": _level, str(_n): _level})

LATENCY_P95_LIMIT_SECONDS = 3.0

_NOT_A_MEASUREMENT = {
    "threshold",
    "target",
    "slo",
    "sla",
    "budget",
    "limit",
    "objective",
    "warn",
    "warning",
    "crit",
    "critical",
    "expected",
}
_ERROR_TOKENS = {"error", "errors", "err", "failure", "failures", "fail", "5xx", "http5xx"}
_RATE_TOKENS = {"rate", "ratio", "percent", "percentage", "pct", "fraction"}
_PERCENT_TOKENS = {"percent", "percentage", "pct"}
_FRACTION_TOKENS = {"ratio", "fraction"}
_P95_TOKENS = {"p95", "95th", "95p", "pct95", "percentile95"}
_UNIT_SECONDS = {
    "ms": 0.001,
    "msec": 0.001,
    "millis": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "us": 1e-6,
    "µs": 1e-6,
    "micros": 1e-6,
    "microseconds": 1e-6,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
}

_NUMBER_WITH_UNIT = re.compile(
    r"^\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([a-zµ%]*)\s*$", re.IGNORECASE
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TEXT_ERROR_RATE = re.compile(
    r"\b(?:error|errors|5xx|failure|err)[ \t_-]*(?:rate|ratio|percentage)\b"
    r"(?P<gap>[^\d\n%]{0,30}?)(?P<number>\d+(?:\.\d+)?)[ \t]*%",
    re.IGNORECASE,
)
_TEXT_P95 = re.compile(
    r"\bp95\b(?P<gap>[^\d\n]{0,30}?)(?P<number>\d+(?:\.\d+)?)[ \t]*"
    r"(?P<unit>ms|msec|milliseconds?|s|secs?|seconds?)\b",
    re.IGNORECASE,
)
_GAP_NOT_A_MEASUREMENT = re.compile(
    r"threshold|target|slo|budget|limit|below|under|<|less", re.IGNORECASE
)

_DATASTORE = r"(?:database|db|postgres|postgresql|mysql|mariadb|mongo|mongodb|redis|datastore)"
_DOWN = r"(?:down|unavailable|unreachable|offline|crashed)"
_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (criterion, re.compile(pattern, re.IGNORECASE))
    for criterion, pattern in (
        (
            "complete outage",
            r"\b(?:complete|total|full|entire|global)\s+(?:service\s+|site\s+|system\s+|api\s+)?"
            r"outage\b",
        ),
        (
            "API completely unavailable",
            r"\bapi\s+(?:is\s+|are\s+)?(?:completely\s+|totally\s+"
            r"|fully\s+)?" + _DOWN + r"\b",
        ),
        (
            "API completely unavailable",
            r"\ball\s+api\s+(?:pods|servers|instances|nodes|replicas)\s+(?:have\s+|are\s+)?"
            r"(?:crashed|down|unavailable)\b",
        ),
        (
            "complete outage",
            r"\b(?:site|website|platform|everything|service|application|app)\s+(?:is|are)\s+"
            r"(?:completely\s+|totally\s+|fully\s+)?(?:down|unavailable|unreachable|offline)\b",
        ),
        (
            "data loss",
            r"\bdata\s+loss\b|\blost\s+(?:customer\s+|user\s+)?data\b|\bdata\s+(?:was\s+|is\s+|"
            r"has\s+been\s+)lost\b",
        ),
        (
            "data corruption",
            r"\bdata\s+corruption\b|\bcorrupt(?:ed)?\s+(?:data|database|records?|rows?|tables?)\b"
            r"|\bdata\s+(?:is\s+|was\s+)?corrupt(?:ed)?\b",
        ),
        (
            "security breach",
            r"\b(?:security|data)\s+breach(?:ed)?\b|\bbreach\s+of\s+security\b"
            r"|\bcritical\s+security\s+vulnerabilit(?:y|ies)\b"
            r"|\b(?:system|server|host|account|accounts|credentials?|keys?|database)\s+"
            r"(?:was\s+|were\s+|is\s+|are\s+|has\s+been\s+|have\s+been\s+)?compromised\b",
        ),
        (
            "datastore down",
            r"\b" + _DATASTORE + r"(?:\s+(?:primary|master|cluster|server|servers|instance|node|"
            r"nodes|cache))?\s+(?:is\s+|are\s+|went\s+|has\s+gone\s+)?(?:completely\s+|"
            r"totally\s+)?" + _DOWN + r"\b",
        ),
    )
)


def suggest_severity(
    alert: ParsedAlert, mapping: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    """Suggest "P0".."P3" for ``alert`` with the reasons, as sentences.

    1. Collect signals: source severity (mapping first), error rate, P95
       latency, keywords — each (level, reason).
    2. No signal: ``DEFAULT_SEVERITY`` with ``NO_SIGNAL_REASON``.
    3. Otherwise the most severe level; the reasons of all signals, in order.
    """
    signals: list[tuple[str, str]] = []
    notes: list[str] = []
    label_signal, note = _source_severity(alert.source_severity, mapping)
    signals += label_signal
    notes += note
    signals += _error_rate(alert)
    signals += _latency(alert)
    signals += _keywords(alert)
    if not signals:
        return DEFAULT_SEVERITY, [*notes, NO_SIGNAL_REASON]
    best = min(level for level, _ in signals)
    reasons = []
    for _, reason in signals:
        if reason not in reasons:
            reasons.append(reason)
    return best, reasons + notes


# --- 1. source severity ----------------------------------------------------------


def _compact(label: str) -> str:
    return re.sub(r"[\s_\-.]+", "", label.strip().lower())


def _source_severity(
    label: str, mapping: Mapping[str, str] | None
) -> tuple[list[tuple[str, str]], list[str]]:
    label = (label or "").strip()
    if not label:
        return [], []
    lowered = label.lower()
    for key, value in (mapping or {}).items():
        level = str(value).strip().upper()
        if level in LEVELS and (
            str(key).strip().lower() == lowered or _compact(str(key)) == _compact(label)
        ):
            return [(level, f"source severity '{lowered}' → {level} (integration mapping)")], []
    level = DEFAULT_LABEL_MAP.get(lowered) or DEFAULT_LABEL_MAP.get(_compact(label))
    if level:
        return [(level, f"source severity '{lowered}' → {level}")], []
    return [], [
        f"source severity '{lowered}' is not a known level (map it in the "
        f"integration's severity mapping)"
    ]


# --- 2. and 3. numeric signals -------------------------------------------------------


def _tokens(key: str) -> list[str]:
    snake = _CAMEL.sub("_", str(key))
    return [t for t in re.split(r"[^a-z0-9]+", snake.lower()) if t]


def _fields(alert: ParsedAlert) -> Iterable[tuple[str, Any]]:
    for source in (alert.values, alert.labels, alert.annotations):
        if isinstance(source, Mapping):
            yield from source.items()


def _number_and_unit(value: Any) -> tuple[float, str] | None:
    number = to_float(value)
    if number is not None:
        return number, ""
    if isinstance(value, str) and (match := _NUMBER_WITH_UNIT.match(value)):
        return float(match.group(1)), match.group(2).lower()
    return None


def _fmt(number: float) -> str:
    return f"{round(number, 2):g}"


def _error_rate_level(percent: float) -> tuple[str, str]:
    shown = f"{_fmt(percent)}%"
    if percent > 5:
        return "P0", f"error rate {shown} > 5% → P0"
    if percent >= 2:
        return "P1", f"error rate {shown} in 2-5% → P1"
    if percent >= 1:
        return "P2", f"error rate {shown} in 1-2% → P2"
    return "P3", f"error rate {shown} < 1% → P3"


def _error_rate(alert: ParsedAlert) -> list[tuple[str, str]]:
    readings: list[float] = []
    for key, value in _fields(alert):
        tokens = _tokens(key)
        if not tokens or _NOT_A_MEASUREMENT & set(tokens):
            continue
        error_at = next((i for i, t in enumerate(tokens) if t in _ERROR_TOKENS), None)
        rate_at = next((i for i, t in enumerate(tokens) if t in _RATE_TOKENS), None)
        if error_at is None or rate_at is None or rate_at < error_at:
            continue
        parsed = _number_and_unit(value)
        if parsed is None or parsed[1] not in ("", "%"):
            continue
        number, unit = parsed
        if unit == "%" or _PERCENT_TOKENS & set(tokens):
            percent = number
        elif _FRACTION_TOKENS & set(tokens) or number <= 1:
            percent = number * 100
        else:
            percent = number
        if 0 <= percent <= 100:
            readings.append(percent)
    for match in _TEXT_ERROR_RATE.finditer(_plain_text(alert)):
        if not _GAP_NOT_A_MEASUREMENT.search(match["gap"]):
            percent = float(match["number"])
            if percent <= 100:
                readings.append(percent)
    return [_error_rate_level(max(readings))] if readings else []


def _latency(alert: ParsedAlert) -> list[tuple[str, str]]:
    readings: list[float] = []  # seconds
    for key, value in _fields(alert):
        tokens = _tokens(key)
        if not _P95_TOKENS & set(tokens) or _NOT_A_MEASUREMENT & set(tokens):
            continue
        parsed = _number_and_unit(value)
        if parsed is None:
            continue
        number, unit = parsed
        if unit:
            if unit not in _UNIT_SECONDS:
                continue
            scale = _UNIT_SECONDS[unit]
        else:
            key_unit = next((t for t in tokens if t in _UNIT_SECONDS), None)
            scale = _UNIT_SECONDS[key_unit] if key_unit else (0.001 if number >= 100 else 1.0)
        readings.append(number * scale)
    for match in _TEXT_P95.finditer(_plain_text(alert)):
        if not _GAP_NOT_A_MEASUREMENT.search(match["gap"]):
            unit = match["unit"].lower()
            readings.append(float(match["number"]) * _UNIT_SECONDS.get(unit, 1.0))
    if not readings or max(readings) <= LATENCY_P95_LIMIT_SECONDS:
        return []
    return [("P1", f"P95 latency {_fmt(max(readings))} s > 3 s → at least P1")]


# --- 4. keywords --------------------------------------------------------------------


def _plain_text(alert: ParsedAlert) -> str:
    return "\n".join(part for part in (alert.title, alert.description) if part)


def _fragments(alert: ParsedAlert) -> Iterable[str]:
    yield alert.title or ""
    yield alert.description or ""
    for source in (alert.labels, alert.annotations):
        if isinstance(source, Mapping):
            for value in source.values():
                if isinstance(value, str) and not re.match(r"^\s*https?://", value):
                    yield value


def _keywords(alert: ParsedAlert) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for fragment in _fragments(alert):
        # As written, and with CamelCase alert names split ("PostgresqlDown");
        # splitting alone would break "PostgreSQL" into "Postgre SQL".
        spaced = re.sub(r"[_\-]+", " ", fragment)
        for readable in dict.fromkeys((spaced, _CAMEL.sub(" ", spaced))):
            for criterion, pattern in _KEYWORDS:
                if criterion in seen:
                    continue
                if match := pattern.search(readable):
                    seen.add(criterion)
                    phrase = re.sub(r"\s+", " ", match.group(0)).strip().lower()
                    found.append(("P0", f"'{phrase}' in the alert: {criterion} → P0"))
    return found


__all__ = ["DEFAULT_LABEL_MAP", "DEFAULT_SEVERITY", "LEVELS", "suggest_severity"]
