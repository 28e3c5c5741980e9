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


@require_GET
@never_cache
def readyz(request):
    """200 only when the database and the broker answer."""
    problems = [p for p in (_check_database(), _check_broker()) if p]
    body = {
        "status": "ok" if not problems else "unavailable",
        "database": "ok" if not any(p.startswith("database") for p in problems) else "down",
        "broker": "ok" if not any(p.startswith("broker") for p in problems) else "down",
    }
    if problems:
        body["errors"] = problems
    return JsonResponse(body, status=200 if not problems else 503)
