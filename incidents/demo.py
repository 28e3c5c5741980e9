"""Demo incidents told as stories: a declaration and the steps taken after
it, each some minutes ago, played through the real services with the clock
set back, so timelines, deadlines and notifications look like real ones.

``manage.py seed_demo`` plays ``STORIES`` for ``make run``; the browser
tests play them too, so their screenshots show the board people see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import clock, services
from .models import Incident


@dataclass(frozen=True)
class Step:
    """``services.incident_<verb>`` by ``by`` (a username), ``ago`` minutes
    before now; a ``user`` among ``args`` is a username too."""

    ago: float
    verb: str
    by: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    """An incident declared ``ago`` minutes before now by ``by`` (a username,
    or None: an alert), with the declaration's ``fields``, then its steps."""

    ago: float
    by: str | None
    fields: dict
    steps: tuple[Step, ...] = ()


def story(ago: float, by: str | None, *steps: Step, **fields) -> Story:
    return Story(ago=ago, by=by, fields=fields, steps=steps)


def step(ago: float, verb: str, by: str, **args) -> Step:
    return Step(ago=ago, verb=verb, by=by, args=args)


def take_command(ago: float, by: str) -> tuple[Step, Step]:
    """``by`` acknowledges and takes command in the same minute."""
    return (
        step(ago, "acknowledge", by),
        step(ago, "assign_role", by, role="commander", user=by),
    )


def play(told: Story, *, people: dict, now: datetime) -> Incident:
    """Declare the story's incident and take its steps, in order, each with
    the clock at its own minutes before ``now``; the incident as it ends."""

    def person(username: str | None):
        return people[username] if username else None

    with clock.frozen(now - timedelta(minutes=told.ago)):
        incident = services.incident_declare(actor=person(told.by), **told.fields)
    for taken in told.steps:
        args = {k: person(v) if k == "user" else v for k, v in taken.args.items()}
        change = getattr(services, f"incident_{taken.verb}")
        with clock.frozen(now - timedelta(minutes=taken.ago)):
            result = change(incident=incident, actor=person(taken.by), **args)
        if isinstance(result, Incident):  # post_update answers with the update
            incident = result
    return incident


H = 60  # minutes

# Every state and severity; "responder" is Riley (demo users in seed_demo).
STORIES = (
    # P0, just detected by monitoring, nobody has acknowledged yet.
    story(
        3,
        None,
        title="Checkout API returning 502 for all requests",
        severity="P0",
        summary="All API pods crash-looping after the 01:40 deploy.",
        impact="No customer can complete a purchase.",
        services=["api", "checkout"],
        source="monitoring",
    ),
    # P0 under command: identified, updates flowing.
    story(
        42,
        "responder",
        *take_command(39, "responder"),
        step(36, "assign_role", "responder", role="responder", user="priya"),
        step(36, "assign_role", "responder", role="communications_lead", user="ellis"),
        step(
            30,
            "post_update",
            "responder",
            status="investigating",
            visibility="public",
            message="We are investigating failed sign-ins and orders.",
        ),
        step(
            14,
            "post_update",
            "priya",
            status="identified",
            message="Primary ran out of disk: **WAL archiving** stalled. Failing over.",
        ),
        title="Primary PostgreSQL unreachable",
        severity="P0",
        summary="Connection errors from every service since 01:10.",
        impact="Sign-in and orders fail for all users.",
        services=["database", "api"],
        source="health_check",
        customer_impacting=True,
    ),
    # P1 mitigated, being watched.
    story(
        130,
        "sam",
        *take_command(124, "sam"),
        step(95, "post_update", "sam", status="identified", message="Rebuild left a cold cache."),
        step(60, "mitigate", "sam", note="Cache warmed; P95 back to 900 ms."),
        title="P95 latency above 3 s on search",
        severity="P1",
        summary="Search P95 at 4.2 s since the index rebuild.",
        impact="Search is slow for all users.",
        services=["search"],
        source="monitoring",
    ),
    # P1 acknowledged but nobody in command yet.
    story(
        9,
        None,
        step(6, "acknowledge", "priya"),
        title="Claude API rate limited (429s)",
        severity="P1",
        summary="Upstream 429s on 4% of completions.",
        services=["ai-gateway"],
        source="monitoring",
    ),
    # P2s; the first is past its one-hour acknowledge target.
    story(
        70,
        None,
        title="Elevated error rate on image uploads (1.4%)",
        severity="P2",
        services=["uploads"],
        source="anomaly",
    ),
    story(
        200,
        "ellis",
        step(190, "acknowledge", "ellis"),
        step(
            190,
            "change_status",
            "ellis",
            status="identified",
            note="Missing index on events.created_at",
        ),
        title="Slow queries on reporting dashboard",
        severity="P2",
        services=["reporting"],
        source="team_member",
    ),
    # P3 from a user report.
    story(
        300,
        None,
        title="Typo in the billing email footer",
        severity="P3",
        services=["email"],
        source="user_report",
    ),
    # Resolved history.
    story(
        20 * H,
        "sam",
        *take_command(20 * H - 4, "sam"),
        step(20 * H - 30, "mitigate", "sam"),
        step(
            20 * H - 75,
            "resolve",
            "sam",
            root_cause="maxmemory too low after traffic growth",
            resolution="Raised maxmemory to 8 GB and added an alert.",
        ),
        title="Redis cache evictions spiking",
        severity="P1",
        services=["cache"],
        source="monitoring",
    ),
    story(
        30 * H,
        None,
        step(30 * H - 20, "acknowledge", "priya"),
        step(
            30 * H - 20,
            "resolve",
            "priya",
            false_positive=True,
            root_cause="Synthetic check pointed at a retired host.",
        ),
        title="Error rate 1.2% on login (false alarm)",
        severity="P2",
        services=["auth"],
        source="monitoring",
    ),
    story(
        26 * H,
        "ellis",
        step(26 * H - 2, "acknowledge", "ellis"),
        step(
            26 * H - 50,
            "resolve",
            "ellis",
            root_cause="Planned drill",
            resolution="Failover completed in 11 minutes.",
        ),
        title="Game day: region failover drill",
        severity="P1",
        services=["api"],
        source="drill",
    ),
    story(
        72 * H,
        "responder",
        *take_command(72 * H - 3, "responder"),
        step(
            72 * H - 40,
            "resolve",
            "responder",
            root_cause="Idempotency key ignored on retry",
            resolution="Hotfix deployed; duplicates refunded.",
        ),
        step(70 * H, "reopen", "responder", reason="Duplicates seen again on the EU shard."),
        step(
            69 * H,
            "resolve",
            "responder",
            root_cause="Idempotency key ignored on retry (EU shard ran the old build)",
            resolution="Redeployed EU shard.",
        ),
        title="Orders duplicated by payment retry",
        severity="P0",
        services=["checkout", "database"],
        source="support_ticket",
        customer_impacting=True,
    ),
)
