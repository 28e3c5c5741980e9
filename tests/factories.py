"""Factories for tests. Incidents are made through the real service so
every test incident has its timeline and deadlines like a real one."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from incidents import clock, services
from incidents.guide import MANAGER, RESPONDER, VIEWER
from incidents.models import Alert, Override, Rotation, RotationMember
from incidents.services.integrations import integration_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@treebeard.test")
    first_name = factory.LazyAttribute(lambda u: u.username.capitalize())
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


def manager(username: str = "alice"):
    user = UserFactory(username=username, groups=[MANAGER])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def responder(username: str = "bob"):
    return UserFactory(username=username, groups=[RESPONDER])


def viewer(username: str = "vera"):
    return UserFactory(username=username, groups=[VIEWER])


def declare(actor=None, **overrides):
    fields = {
        "title": "Checkout API returning 500s",
        "severity": "P1",
        "summary": "Error rate 3% on /checkout",
        "impact": "Some customers cannot pay",
        "services": ["api"],
    }
    fields.update(overrides)
    return services.incident_declare(actor=actor, **fields)


def alert(incident, *, title: str, manager, **fields):
    """A firing Alertmanager alert on ``incident``, from a new integration
    ``manager`` adds; written directly: the ingestion is not under test."""
    integration, _ = integration_create(actor=manager, name="Prometheus", kind="alertmanager")
    return Alert.objects.create(
        integration=integration,
        kind="alertmanager",
        fingerprint=title,
        occurrence_key=title,
        status="firing",
        title=title,
        received_at=clock.now(),
        incident=incident,
        **fields,
    )


def rotation(
    schedule, members, *, starts_at=None, interval="weekly", name=None, positions=None, **fields
):
    """A rotation on ``schedule`` handing off between ``members`` in that
    order (positions 0, 1, … unless ``positions`` says), its first hand-off at ``starts_at`` (now
    unless given), named after its interval unless ``name`` says; written
    directly, without an audit row: the rota is what a test stands on, not
    what it tries."""
    made = Rotation.objects.create(
        schedule=schedule,
        name=name or interval.capitalize(),
        interval=interval,
        starts_at=starts_at or clock.now(),
        **fields,
    )
    for index, user in enumerate(members):
        position = positions[index] if positions else index
        RotationMember.objects.create(rotation=made, user=user, position=position)
    return made


def override(schedule, user, starts_at=None, ends_at=None, **fields):
    """``user`` on call for ``schedule`` from ``starts_at`` to ``ends_at``
    (unless given: a day's cover from this time tomorrow); written directly,
    like ``rotation``."""
    starts_at = starts_at or clock.now() + timedelta(days=1)
    return Override.objects.create(
        schedule=schedule,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at or starts_at + timedelta(days=1),
        **fields,
    )
