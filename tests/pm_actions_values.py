"""Values and helpers of the action-item, tracker and ticket tests (their
fixtures are in tests/pm_actions_support.py, loaded with ``pytest_plugins``)."""

from __future__ import annotations

import json
from datetime import date

from incidents.models import Notification
from postmortems.tickets import TICKET

# Wednesday 25 November 2026, 10:00 UTC (tests.engine_support.T0).
TODAY = date(2026, 11, 25)
GITHUB_TOKEN = "ghp_SECRETtokenVALUE0123456789abcdefABCD"
JIRA_TOKEN = "jira-SECRET-api-token-4242424242"


def ticket_rows(item) -> list[Notification]:
    return list(
        Notification.objects.filter(message_kind=TICKET, context__action_item=item.pk).order_by(
            "id"
        )
    )


def answer(status: int, document: dict) -> tuple:
    """A scripted HttpRecorder answer with a JSON body."""
    return (status, {"Content-Type": "application/json"}, json.dumps(document))
