"""Helpers of the status-page subscription tests (tests/test_statuspage_subscri*.py):
components and groups to subscribe to, subscribers in each state, and the
outbox rows a change wrote for them."""

from __future__ import annotations

import re

from incidents.models import Notification
from incidents.notify import outbox
from statuspage import services
from statuspage.models import Component, ComponentGroup, Subscriber, SubscriberDelivery
from statuspage.services.subscribers import EMAIL_KIND, WEBHOOK_KIND

STATUS = "status.treebeard.com"
STATUS_KINDS = (EMAIL_KIND, WEBHOOK_KIND)
LINK = re.compile(r"https://status\.treebeard\.com(/[^\s\"<>]+)")


def make_layout(alice) -> dict:
    """API and Website (grouped under "Public"), and Billing on its own
    (each test module's ``layout`` fixture)."""
    public = services.group_create(actor=alice, name="Public")
    return {
        "public": public,
        "api": services.component_create(actor=alice, name="API", group=public),
        "web": services.component_create(actor=alice, name="Website", group=public),
        "billing": services.component_create(actor=alice, name="Billing"),
    }


def add_email(alice, address: str, *, components=(), groups=()) -> Subscriber:
    """A confirmed email subscriber (a manager adds it)."""
    return services.subscriber_add(
        actor=alice, kind="email", address=address, components=components, groups=groups
    )


def status_rows(**filters) -> list[Notification]:
    """The subscribers' outbox rows, oldest first."""
    return list(
        Notification.objects.filter(message_kind__in=STATUS_KINDS, **filters).order_by("id")
    )


def told(**filters) -> set[str]:
    """The destinations the subscribers' rows go to."""
    return {row.target for row in status_rows(**filters)}


def deliver_all() -> list[str]:
    """Deliver every pending subscriber row now (no worker in the tests)."""
    return [outbox.deliver(row.pk) for row in status_rows(status="pending")]


def links_in(text: str) -> list[str]:
    """The status host's paths linked from a mail's text."""
    return LINK.findall(text)


def text_of(message) -> str:
    """The plain-text part of a parsed mail."""
    return message.get_body(preferencelist=("plain",)).get_content()


def deliveries_of(subscriber: Subscriber) -> list[SubscriberDelivery]:
    return list(SubscriberDelivery.objects.filter(subscriber=subscriber).order_by("id"))


def component(name: str) -> Component:
    return Component.objects.get(name=name)


def group(name: str) -> ComponentGroup:
    return ComponentGroup.objects.get(name=name)
