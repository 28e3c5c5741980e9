"""Demo data for `make run`: one user per group and incidents in every state.

Idempotent: users are created once (their passwords kept in
var/demo-credentials.txt and printed on every run); incidents are seeded
only into an empty database, as the stories of incidents/demo.py.
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

from incidents import clock, demo, services
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
            address = f"{user.username}@treebeard.example"
            if not ContactMethod.objects.filter(user=user, kind="email", value=address).exists():
                services.contact_add(actor=user, user=user, kind="email", value=address)
        if not Channel.objects.filter(name="incidents@ mailing list").exists():
            services.channel_create(
                actor=None,
                name="incidents@ mailing list",
                kind="email",
                target="incidents@treebeard.example",
                severities=["P1", "P3"],
            )

    def _incidents(self, people) -> None:
        now = clock.now()
        for told in demo.STORIES:
            demo.play(told, people=people, now=now)
