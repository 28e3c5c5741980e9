"""Subscribers: who is told of public changes, by email or signed webhook.

Two ways in:

- **The public** subscribes an email address on the status page
  (``subscriber_request``): double opt-in, so nothing but the confirmation
  mail reaches the address until its owner follows the link. The answer is
  the same whether or not the address is known, and requests are limited per
  client address and per email address (``RateLimited``).
- **Managers** add, change and delete subscribers in the API and the admin
  (``subscriber_add`` …), audited. An email address a manager adds is
  confirmed at once, as Statuspage's "skip confirmation" does: the manager
  vouches for it (the customer asked them), and every message still carries
  the one-click unsubscribe link. A webhook's endpoint must pass the
  outbound-address guard (``incidents.notify.http.check_url``).

Links carry signed tokens (``django.core.signing``, one salt per purpose)
naming the subscriber's code and a fragment derived from its secret, so a
link dies with its subscriber. Confirmation links expire after
``CONFIRM_MAX_AGE``; unsubscribe links never do (RFC 8058: a mail client
may use one years later).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse

from incidents import audit, clock
from incidents.errors import DomainError, RateLimited
from incidents.models import NotificationStatus
from incidents.notify.errors import UnsafeDestination
from incidents.notify.http import check_url, within_allowed_networks
from incidents.notify.outbox import dispatch_on_commit, write_row
from incidents.services.edits import UNSET

from .. import access
from ..models import Component, ComponentGroup, Subscriber, SubscriberDelivery, SubscriberKind

log = logging.getLogger(__name__)

CONFIRM_SALT = "statuspage.subscriber.confirm"
UNSUBSCRIBE_SALT = "statuspage.subscriber.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)

# Subscribe requests per fixed window, per client address and per email
# address (hashed: cache keys end up in Redis' dumps).
RATE_WINDOW_SECONDS = 3600
MAX_PER_IP = 10
MAX_PER_ADDRESS = 3

# The outbox's message kinds for subscribers (senders: statuspage/delivery.py).
EMAIL_KIND = "status_email"
WEBHOOK_KIND = "status_webhook"
MESSAGE_KIND = {SubscriberKind.EMAIL: EMAIL_KIND, SubscriberKind.WEBHOOK: WEBHOOK_KIND}

ADDRESS_MAX = Subscriber._meta.get_field("address").max_length
ENDPOINT_MAX = Subscriber._meta.get_field("endpoint").max_length
ENDPOINT_TAKEN = "This endpoint is subscribed already."


# --- public links ------------------------------------------------------------------


def public_url(path: str = "/") -> str:
    """An absolute link on the status host (every link subscribers get)."""
    return f"https://{settings.STATUS_PAGE_HOST}{path}"


def page_path(name: str, **kwargs) -> str:
    """A status-page path as the status host serves it (``/unsubscribe/…``)."""
    # The status host's own URLconf, where the names carry no namespace.
    return reverse(name, kwargs=kwargs, urlconf="statuspage.urls")


def _fragment(subscriber: Subscriber, purpose: str) -> str:
    """A piece of the subscriber's secret, never the secret itself (it is a
    webhook's HMAC key, and a token's payload is readable)."""
    return hmac.new(subscriber.secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:16]


def confirm_token(subscriber: Subscriber, *, components=None, groups=None) -> str:
    """A confirmation link's token; with ``components``/``groups`` (codes) it
    also sets the subscriber's choice when followed (a confirmed address
    asking for another choice)."""
    data: dict = {"s": subscriber.code, "f": _fragment(subscriber, "confirm")}
    if components is not None or groups is not None:
        data["c"] = sorted(components or [])
        data["g"] = sorted(groups or [])
    return signing.dumps(data, salt=CONFIRM_SALT, compress=True)


def unsubscribe_token(subscriber: Subscriber) -> str:
    data = {"s": subscriber.code, "f": _fragment(subscriber, "unsubscribe")}
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT)


def confirm_url(subscriber: Subscriber, **choice) -> str:
    return public_url(page_path("subscription-confirm", token=confirm_token(subscriber, **choice)))


def unsubscribe_url(subscriber: Subscriber) -> str:
    return public_url(page_path("unsubscribe", token=unsubscribe_token(subscriber)))


def _read(token: str, *, salt: str, purpose: str, max_age=None) -> tuple[Subscriber | None, dict]:
    """The subscriber a token names (None when it is gone) and its payload;
    ``DomainError`` for a token that is not ours or has expired."""
    try:
        data = signing.loads(str(token), salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise DomainError(
            "This link has expired; subscribe again to get a new one.", field="token"
        ) from None
    except signing.BadSignature:
        raise DomainError("This link is not valid.", field="token") from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        raise DomainError("This link is not valid.", field="token")
    subscriber = Subscriber.objects.select_for_update().filter(code=data["s"]).first()
    if subscriber is None or not hmac.compare_digest(
        _fragment(subscriber, purpose), str(data.get("f", ""))
    ):
        return None, data
    return subscriber, data


# --- input checks --------------------------------------------------------------------


def _address(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError("Enter an email address.", field="address")
    address = value.strip()
    if len(address) > ADDRESS_MAX:
        raise DomainError(f"address: at most {ADDRESS_MAX} characters.", field="address")
    try:
        validate_email(address)
    except ValidationError:
        raise DomainError("Enter a valid email address.", field="address") from None
    # The domain is case-insensitive; the local part is kept as typed.
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _endpoint(value) -> str:
    """A webhook URL the outbound guard accepts now: https (plain http only
    to networks the operator named as local), resolvable, public."""
    if not isinstance(value, str) or not value.strip():
        raise DomainError("Enter the webhook's URL.", field="endpoint")
    url = value.strip()
    if len(url) > ENDPOINT_MAX:
        raise DomainError(f"endpoint: at most {ENDPOINT_MAX} characters.", field="endpoint")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise DomainError("The endpoint is not a valid URL.", field="endpoint") from None
    plain_ok = (
        parts.scheme == "http" and bool(parts.hostname) and within_allowed_networks(parts.hostname)
    )
    if parts.scheme != "https" and not plain_ok:
        raise DomainError("The endpoint must be an https:// URL.", field="endpoint")
    try:
        check_url(url)
    except UnsafeDestination as exc:
        raise DomainError(f"The endpoint is not allowed: {exc.message}", field="endpoint") from None
    except ValueError as exc:
        raise DomainError(f"The endpoint is not usable: {exc}", field="endpoint") from None
    return url


def _codes(values, field: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise DomainError(f"{field} must be a list of ids.", field=field)
    codes = []
    for value in values:
        code = getattr(value, "code", value)
        if not isinstance(code, str) or not code:
            raise DomainError(f"{field}: every id must be text.", field=field)
        if code not in codes:
            codes.append(code)
    return codes


def _lookup(model, values, field: str) -> list:
    codes = _codes(values, field)
    found = {row.code: row for row in model.objects.filter(code__in=codes)}
    missing = [code for code in codes if code not in found]
    if missing:
        noun = "component" if model is Component else "component group"
        raise DomainError(f"{field}: no {noun} {missing[0]!r}.", field=field)
    return [found[code] for code in codes]


# --- rate limit ----------------------------------------------------------------------


def _count(key: str) -> int:
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=RATE_WINDOW_SECONDS)
        return 1


def _take_request(*, ip: str | None, address: str) -> None:
    """Count one request against its client address and its email address, in
    a fixed window; ``RateLimited`` past either limit. Both are counted for
    known and unknown addresses alike. Redis down: let it through (the mail
    itself is capped per minute by the outbox)."""
    now = clock.now().timestamp()
    window = int(now // RATE_WINDOW_SECONDS)
    mail = hashlib.sha256(address.lower().encode()).hexdigest()
    try:
        by_ip = _count(f"statuspage:subscribe:ip:{ip or 'unknown'}:{window}")
        by_address = _count(f"statuspage:subscribe:address:{mail}:{window}")
    except Exception as exc:
        log.warning("Subscribe requests could not be counted: %s", exc)
        return
    if by_ip > MAX_PER_IP or by_address > MAX_PER_ADDRESS:
        wait = int(RATE_WINDOW_SECONDS - now % RATE_WINDOW_SECONDS) + 1
        raise RateLimited(
            "Too many subscription requests; try again later.", retry_after=wait, field="address"
        )


# --- the confirmation mail -------------------------------------------------------


def _choice(subscriber: Subscriber) -> dict:
    return {
        "components": [c.name for c in subscriber.components.all()],
        "groups": [g.name for g in subscriber.groups.all()],
    }


def _send_confirmation(subscriber: Subscriber, *, link: str, already: bool) -> None:
    """One confirmation mail through the outbox (retried, capped, logged)."""
    now = clock.now()
    row = write_row(
        key=f"status:confirm:{subscriber.code}:{now.timestamp():.6f}",
        incident=None,
        event=None,
        transport=SubscriberKind.EMAIL,
        target=subscriber.address,
        message_kind=EMAIL_KIND,
        context={
            "template": "confirm",
            "event": "subscription.confirm",
            "confirm_url": link,
            "unsubscribe_url": unsubscribe_url(subscriber),
            "already_confirmed": already,
            "max_age_days": CONFIRM_MAX_AGE.days,
            **_choice(subscriber),
        },
        status=NotificationStatus.PENDING,
        now=now,
    )
    if row is not None:
        SubscriberDelivery.objects.create(
            subscriber=subscriber, notification=row, event="subscription.confirm"
        )
        dispatch_on_commit([row])


# --- the public's changes ------------------------------------------------------------


@transaction.atomic
def subscriber_request(
    *, address: str, components=(), groups=(), ip: str | None
) -> Subscriber | None:
    """Someone asks for email updates on the status page (double opt-in).

    1. Check the address and the choice (unknown ids are refused).
    2. Count the request (per client address and email address).
    3. A new address: an unconfirmed subscriber with that choice, and the
       confirmation mail. An unconfirmed one: its choice replaced, the mail
       sent again. A confirmed one: a mail whose link applies the new
       choice (so nobody else can change it) — the page's answer is the same.
    Returns the subscriber, for tests; callers show the same page whatever it is.
    """
    address = _address(address)
    chosen_components = _lookup(Component, components, "components")
    chosen_groups = _lookup(ComponentGroup, groups, "groups")
    _take_request(ip=ip, address=address)
    subscriber = (
        Subscriber.objects.select_for_update()
        .filter(kind=SubscriberKind.EMAIL, address__iexact=address)
        .first()
    )
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(
                    kind=SubscriberKind.EMAIL, address=address, created_at=clock.now()
                )
        except IntegrityError:  # the same address at the same moment
            return None
    if subscriber.confirmed_at is None:
        subscriber.components.set(chosen_components)
        subscriber.groups.set(chosen_groups)
        _send_confirmation(subscriber, link=confirm_url(subscriber), already=False)
    else:
        link = confirm_url(
            subscriber,
            components=[c.code for c in chosen_components],
            groups=[g.code for g in chosen_groups],
        )
        _send_confirmation(subscriber, link=link, already=True)
    return subscriber


@transaction.atomic
def subscriber_confirm(*, token: str) -> Subscriber:
    """Follow a confirmation link: the subscriber is confirmed (and its choice
    set, when the link carries one). Expired or unknown links are refused."""
    subscriber, data = _read(token, salt=CONFIRM_SALT, purpose="confirm", max_age=CONFIRM_MAX_AGE)
    if subscriber is None:
        raise DomainError(
            "This subscription no longer exists; subscribe again.", field="token", conflict=True
        )
    if "c" in data:
        subscriber.components.set(_lookup(Component, data.get("c"), "components"))
        subscriber.groups.set(_lookup(ComponentGroup, data.get("g"), "groups"))
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = clock.now()
        subscriber.save(update_fields=["confirmed_at"])
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(*, token: str) -> None:
    """Follow an unsubscribe link (or a mail client's one-click POST): the
    subscriber and its delivery log are deleted. Again is the same answer."""
    subscriber, _data = _read(token, salt=UNSUBSCRIBE_SALT, purpose="unsubscribe")
    if subscriber is not None:
        subscriber.delete()


# --- managers' changes ---------------------------------------------------------------


def _audited(subscriber: Subscriber) -> dict:
    return {
        "kind": subscriber.kind,
        "address": subscriber.address,
        "endpoint": subscriber.endpoint,
        "components": sorted(c.code for c in subscriber.components.all()),
        "groups": sorted(g.code for g in subscriber.groups.all()),
        "confirmed_at": subscriber.confirmed_at,
    }


def _label(subscriber: Subscriber) -> str:
    # A webhook URL may carry a credential in its path: the log shows its host.
    if subscriber.kind == SubscriberKind.WEBHOOK:
        try:
            return f"webhook {urlsplit(subscriber.endpoint).hostname}"
        except ValueError:
            return "webhook"
    return subscriber.address


@transaction.atomic
def subscriber_add(
    *, actor, kind: str, address: str = "", endpoint: str = "", components=(), groups=()
) -> Subscriber:
    """A manager adds a subscriber: an email address (confirmed at once,
    see the module's doc) or a webhook endpoint (checked by the guard).
    No components and no groups means every component."""
    access.require_manage(actor)
    if kind not in SubscriberKind.values:
        raise DomainError(
            f"kind must be one of: {', '.join(SubscriberKind.values)} (got {kind!r}).",
            field="kind",
        )
    chosen_components = _lookup(Component, components, "components")
    chosen_groups = _lookup(ComponentGroup, groups, "groups")
    if kind == SubscriberKind.EMAIL:
        if endpoint:
            raise DomainError("An email subscriber has no endpoint.", field="endpoint")
        address = _address(address)
        if Subscriber.objects.filter(address__iexact=address).exists():
            raise DomainError(f"{address} is subscribed already.", field="address", conflict=True)
        values = {"address": address}
    else:
        if address:
            raise DomainError("A webhook subscriber has no address.", field="address")
        endpoint = _endpoint(endpoint)
        if Subscriber.objects.filter(endpoint=endpoint).exists():
            raise DomainError(ENDPOINT_TAKEN, field="endpoint", conflict=True)
        values = {"endpoint": endpoint}
    now = clock.now()
    subscriber = Subscriber.objects.create(
        kind=kind,
        created_at=now,
        confirmed_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        **values,
    )
    subscriber.components.set(chosen_components)
    subscriber.groups.set(chosen_groups)
    audit.record(
        actor=actor,
        action="subscriber_add",
        obj=subscriber,
        after=_audited(subscriber),
        object_repr=_label(subscriber),
    )
    return subscriber


@transaction.atomic
def subscriber_update(
    *, actor, subscriber: Subscriber, endpoint: str = UNSET, components=UNSET, groups=UNSET
) -> Subscriber:
    """A manager changes a subscriber's choice, or a webhook's endpoint (an
    email address is not changed: that is another subscriber)."""
    access.require_manage(actor)
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    before = _audited(subscriber)
    if endpoint is not UNSET and endpoint != subscriber.endpoint:
        if subscriber.kind != SubscriberKind.WEBHOOK:
            raise DomainError("An email subscriber has no endpoint.", field="endpoint")
        endpoint = _endpoint(endpoint)
        if Subscriber.objects.exclude(pk=subscriber.pk).filter(endpoint=endpoint).exists():
            raise DomainError(ENDPOINT_TAKEN, field="endpoint", conflict=True)
        subscriber.endpoint = endpoint
        subscriber.save(update_fields=["endpoint"])
    if components is not UNSET:
        subscriber.components.set(_lookup(Component, components, "components"))
    if groups is not UNSET:
        subscriber.groups.set(_lookup(ComponentGroup, groups, "groups"))
    audit.record(
        actor=actor,
        action="subscriber_update",
        obj=subscriber,
        before=before,
        after=_audited(subscriber),
        object_repr=_label(subscriber),
    )
    return subscriber


@transaction.atomic
def subscriber_delete(*, actor, subscriber: Subscriber) -> None:
    """A manager removes a subscriber (its links stop working at once)."""
    access.require_manage(actor)
    before = _audited(subscriber)
    pk, label = subscriber.pk, _label(subscriber)
    subscriber.delete()
    audit.record(
        actor=actor,
        action="subscriber_delete",
        obj=subscriber,
        before=before,
        object_id=pk,
        object_repr=label,
    )
