"""Liveness and readiness probes (DESIGN.md: /healthz and /readyz)."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"database: {exc.__class__.__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    from treebeard_ir.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        return f"broker: {exc.__class__.__name__}: {exc}"
    return None


def _check_engine() -> tuple[str, str | None]:
    """The SLA engine's watchdog (incidents/engine/watchdog.py): "ok" or "stalled"."""
    from incidents.engine.watchdog import engine_health

    try:
        health = engine_health()
    except Exception as exc:
        return "unknown", f"engine: {exc.__class__.__name__}: {exc}"
    if health["stalled"]:
        return "stalled", (
            "engine: stalled: oldest due deadline "
            f"{health['oldest_due_deadline_age_seconds']} s, oldest undelivered notification "
            f"{health['oldest_undelivered_notification_age_seconds']} s "
            f"(limit {health['stall_threshold_seconds']} s)"
        )
    return "ok", None


@require_GET
@never_cache
def readyz(request):
    """200 only when the database and the broker answer and the engine keeps
    up (no due deadline or undelivered notification older than
    ENGINE_STALL_SECONDS). The engine is not checked while the database is down."""
    database = _check_database()
    problems = [p for p in (database, _check_broker()) if p]
    engine = "unknown"
    if database is None:
        engine, problem = _check_engine()
        if problem:
            problems.append(problem)
    body = {
        "status": "ok" if not problems else "unavailable",
        "database": "ok" if not any(p.startswith("database") for p in problems) else "down",
        "broker": "ok" if not any(p.startswith("broker") for p in problems) else "down",
        "engine": engine,
    }
    if problems:
        body["errors"] = problems
    return JsonResponse(body, status=200 if not problems else 503)
