"""Demo data for `make run`: one user per group and incidents in every state.

Idempotent: users are created once (their passwords kept in
var/demo-credentials.txt and printed on every run); incidents are seeded
only into an empty database. Everything goes through the real services,
with the clock set back, so timelines and deadlines look like real ones.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from incidents import clock, services
from incidents.guide import MANAGER, RESPONDER, VIEWER
from incidents.models import (
    Channel,
    ContactMethod,
    Incident,
    Schedule,
)

DEMO_USERS = [
    # username, full name, group, staff
    ("manager", "Morgan Manager", MANAGER, True),
    ("responder", "Riley Responder", RESPONDER, False),
    ("viewer", "Val Viewer", VIEWER, False),
]
EXTRA_RESPONDERS = [("sam", "Sam Senior"), ("priya", "Priya Platform"), ("ellis", "Ellis Lead")]


class Command(BaseCommand):
    help = "Create demo users (one per group) and demo incidents in every state and severity."

    def handle(self, *args, **options):
        credentials = self._users()
        people = {u.username: u for u in get_user_model().objects.all()}
        if Incident.objects.exists():
            self.stdout.write("Incidents already present; demo incidents not re-seeded.")
        else:
            with transaction.atomic():
                self._oncall(people)
                self._incidents(people)
            self.stdout.write(f"Seeded {Incident.objects.count()} demo incidents.")
        self.stdout.write("")
        self.stdout.write(f"Demo sign-in at {settings.SITE_URL}/accounts/login/")
        for username, password in credentials:
            self.stdout.write(f"  {username:<10} password: {password}")

    def _users(self) -> list[tuple[str, str]]:
        User = get_user_model()
        store = Path(settings.VAR_DIR) / "demo-credentials.txt"
        known = {}
        if store.exists():
            for line in store.read_text().splitlines():
                name, _, password = line.partition(" ")
                known[name] = password
        result = []
        for username, full_name, group, staff in DEMO_USERS:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "is_staff": staff,
                    "email": f"{username}@treebeard.example",
                },
            )
            user.groups.add(Group.objects.get(name=group))
            password = known.get(username)
            if created or not password or not user.check_password(password):
                password = secrets.token_urlsafe(9)
                user.set_password(password)
                user.save(update_fields=["password"])
            result.append((username, password))
        for username, full_name in EXTRA_RESPONDERS:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=RESPONDER))
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text("".join(f"{n} {p}\n" for n, p in result))
        store.chmod(0o600)
        return result

    def _oncall(self, people) -> None:
        """Rotations for the guide's technical roles, an email contact for
        everyone and an email channel, so declarations page real people (the
        default console mail backend prints the messages)."""
        start = clock.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=7)
        layout = {
            "on-call-engineer": ["responder", "sam", "priya"],
            "senior-engineer": ["sam", "priya"],
            "engineering-manager": ["ellis"],
            "vp-engineering-cto": ["manager"],
            "customer-support-lead": ["ellis"],
        }
        for slug, members in layout.items():
            schedule = Schedule.objects.filter(slug=slug).first()
            if schedule is None or schedule.rotations.exists():
                continue
            services.rotation_create(
                actor=None,
                schedule=schedule,
                name="Weekly",
                starts_at=start,
                interval="weekly",
                members=[people[username] for username in members],
            )
        for user in people.values():
            ContactMethod.objects.get_or_create(
                user=user, kind="email", value=f"{user.username}@treebeard.example"
            )
        Channel.objects.get_or_create(
            name="incidents@ mailing list",
            defaults={
                "kind": "email",
                "target": "incidents@treebeard.example",
                "severities": ["P1", "P3"],
            },
        )

    def _incidents(self, people) -> None:
        now = clock.now()
        riley, sam, priya, ellis = (people[n] for n in ("responder", "sam", "priya", "ellis"))

        def at(minutes_ago: float):
            return clock.frozen(now - timedelta(minutes=minutes_ago))

        def declare(minutes_ago, **fields):
            with at(minutes_ago):
                return services.incident_declare(actor=fields.pop("actor", None), **fields)

        # P0, just detected by monitoring, nobody has acknowledged yet.
        declare(
            3,
            title="Checkout API returning 502 for all requests",
            severity="P0",
            summary="All API pods crash-looping after the 01:40 deploy.",
            impact="No customer can complete a purchase.",
            services=["api", "checkout"],
            source="monitoring",
        )

        # P0 under command: identified, updates flowing.
        inc = declare(
            42,
            actor=riley,
            title="Primary PostgreSQL unreachable",
            severity="P0",
            summary="Connection errors from every service since 01:10.",
            impact="Sign-in and orders fail for all users.",
            services=["database", "api"],
            source="health_check",
            customer_impacting=True,
        )
        with at(39):
            inc = services.incident_acknowledge(incident=inc, actor=riley)
            inc = services.incident_assign_role(
                incident=inc, actor=riley, role="commander", user=riley
            )
        with at(36):
            inc = services.incident_assign_role(
                incident=inc, actor=riley, role="responder", user=priya
            )
            inc = services.incident_assign_role(
                incident=inc, actor=riley, role="communications_lead", user=ellis
            )
        with at(30):
            services.incident_post_update(
                incident=inc,
                actor=riley,
                status="investigating",
                visibility="public",
                message="We are investigating failed sign-ins and orders.",
            )
        with at(14):
            services.incident_post_update(
                incident=inc,
                actor=priya,
                status="identified",
                message="Primary ran out of disk: **WAL archiving** stalled. Failing over.",
            )

        # P1 mitigated, being watched.
        inc = declare(
            130,
            actor=sam,
            title="P95 latency above 3 s on search",
            severity="P1",
            summary="Search P95 at 4.2 s since the index rebuild.",
            impact="Search is slow for all users.",
            services=["search"],
            source="monitoring",
        )
        with at(124):
            inc = services.incident_acknowledge(incident=inc, actor=sam)
            inc = services.incident_assign_role(incident=inc, actor=sam, role="commander", user=sam)
        with at(95):
            services.incident_post_update(
                incident=inc, actor=sam, status="identified", message="Rebuild left a cold cache."
            )
        with at(60):
            inc = services.incident_mitigate(
                incident=inc, actor=sam, note="Cache warmed; P95 back to 900 ms."
            )

        # P1 acknowledged but nobody in command yet.
        inc = declare(
            9,
            title="Claude API rate limited (429s)",
            severity="P1",
            summary="Upstream 429s on 4% of completions.",
            services=["ai-gateway"],
            source="monitoring",
        )
        with at(6):
            services.incident_acknowledge(incident=inc, actor=priya)

        # P2s.
        declare(
            25,
            title="Elevated error rate on image uploads (1.4%)",
            severity="P2",
            services=["uploads"],
            source="anomaly",
        )
        inc = declare(
            200,
            actor=ellis,
            title="Slow queries on reporting dashboard",
            severity="P2",
            services=["reporting"],
            source="team_member",
        )
        with at(190):
            inc = services.incident_acknowledge(incident=inc, actor=ellis)
            inc = services.incident_change_status(
                incident=inc,
                actor=ellis,
                status="identified",
                note="Missing index on events.created_at",
            )

        # P3 from a user report.
        declare(
            300,
            title="Typo in the billing email footer",
            severity="P3",
            services=["email"],
            source="user_report",
        )

        # Resolved history.
        inc = declare(
            60 * 20,
            actor=sam,
            title="Redis cache evictions spiking",
            severity="P1",
            services=["cache"],
            source="monitoring",
        )
        with at(60 * 20 - 4):
            inc = services.incident_acknowledge(incident=inc, actor=sam)
            inc = services.incident_assign_role(incident=inc, actor=sam, role="commander", user=sam)
        with at(60 * 20 - 30):
            inc = services.incident_mitigate(incident=inc, actor=sam)
        with at(60 * 20 - 75):
            services.incident_resolve(
                incident=inc,
                actor=sam,
                root_cause="maxmemory too low after traffic growth",
                resolution="Raised maxmemory to 8 GB and added an alert.",
            )
        inc = declare(
            60 * 30,
            title="Error rate 1.2% on login (false alarm)",
            severity="P2",
            services=["auth"],
            source="monitoring",
        )
        with at(60 * 30 - 20):
            inc = services.incident_acknowledge(incident=inc, actor=priya)
            services.incident_resolve(
                incident=inc,
                actor=priya,
                false_positive=True,
                root_cause="Synthetic check pointed at a retired host.",
            )
        inc = declare(
            60 * 26,
            actor=ellis,
            title="Game day: region failover drill",
            severity="P1",
            services=["api"],
            source="drill",
        )
        with at(60 * 26 - 2):
            inc = services.incident_acknowledge(incident=inc, actor=ellis)
        with at(60 * 26 - 50):
            services.incident_resolve(
                incident=inc,
                actor=ellis,
                root_cause="Planned drill",
                resolution="Failover completed in 11 minutes.",
            )
        inc = declare(
            60 * 72,
            actor=riley,
            title="Orders duplicated by payment retry",
            severity="P0",
            services=["checkout", "database"],
            source="support_ticket",
            customer_impacting=True,
        )
        with at(60 * 72 - 3):
            inc = services.incident_acknowledge(incident=inc, actor=riley)
            inc = services.incident_assign_role(
                incident=inc, actor=riley, role="commander", user=riley
            )
        with at(60 * 72 - 40):
            inc = services.incident_resolve(
                incident=inc,
                actor=riley,
                root_cause="Idempotency key ignored on retry",
                resolution="Hotfix deployed; duplicates refunded.",
            )
        with at(60 * 70):
            inc = services.incident_reopen(
                incident=inc, actor=riley, reason="Duplicates seen again on the EU shard."
            )
        with at(60 * 69):
            services.incident_resolve(
                incident=inc,
                actor=riley,
                root_cause="Idempotency key ignored on retry (EU shard ran the old build)",
                resolution="Redeployed EU shard.",
            )
