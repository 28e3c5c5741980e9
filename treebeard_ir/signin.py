"""Sign-in throttling and password reset.

django-axes counts failed sign-ins per (username, client address) and refuses
a pair past ``AXES_FAILURE_LIMIT`` for ``AXES_COOLOFF_TIME``; this module gives
it the client address and the page a refused person sees. Password-reset
requests are limited here too, and their links are built from ``SITE_URL``:
the request's Host header is the attacker's to choose.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from incidents import clock

RESET_WINDOW_SECONDS = 3600
USERNAME_MAX_LENGTH = 150  # django.contrib.auth's username field


def client_ip(request: HttpRequest) -> str | None:
    """The address whose failures are counted (``AXES_CLIENT_IP_CALLABLE``).

    ``REMOTE_ADDR`` unless ``TRUSTED_PROXY_COUNT`` proxies sit in front: then
    the entry those proxies appended to ``X-Forwarded-For``, counted from the
    right, since everything left of it the client may have written itself.
    A header that is shorter than promised or not an address falls back to the
    connection's address, which is never a way around the lockout.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            try:
                return str(ipaddress.ip_address(hops[-proxies]))
            except ValueError:
                pass
    return remote


def client_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username failures are counted under (``AXES_USERNAME_CALLABLE``).

    Django's sign-in form does not enforce the username's length before it
    authenticates, and axes stores the name in a 255-character column: an
    over-long name (or a NUL byte) would be a 500 instead of a failed sign-in.
    No account's name is longer than the field, so cutting it there counts
    every real attempt exactly.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    raw = (credentials or {}).get(field) if credentials else request.POST.get(field)
    if not isinstance(raw, str):
        return None
    return raw.replace("\x00", "")[:USERNAME_MAX_LENGTH]


def _storable(request: HttpRequest | None) -> None:
    # PostgreSQL text cannot hold NUL: a User-Agent or Accept header carrying
    # one must be a failed sign-in like any other, not a 500.
    for name in ("axes_user_agent", "axes_http_accept", "axes_path_info"):
        value = getattr(request, name, None)
        if isinstance(value, str) and "\x00" in value:
            setattr(request, name, value.replace("\x00", ""))


class AxesHandler(AxesDatabaseHandler):
    """axes' database handler (``AXES_HANDLER``) that first makes the request's
    headers storable; attempts stay rows, so the axes_reset_* commands work."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        _storable(request)
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        _storable(request)
        return super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender, request, user, **kwargs):
        _storable(request)
        return super().user_logged_out(sender, request, user, **kwargs)


def _login_action(request: HttpRequest) -> str:
    admin_root = reverse("admin:index")
    return reverse("admin:login") if request.path.startswith(admin_root) else reverse("login")


def _lockout_ends(*, username: str, ip_address: str | None) -> datetime:
    """When the pair's cool-off ends: its latest recorded failure plus the cool-off
    (failures during a lockout are not recorded, see settings)."""
    from axes.models import AccessAttempt

    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    latest = (
        AccessAttempt.objects.filter(username=username, ip_address=ip_address)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    return (latest or clock.now()) + cooloff


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The sign-in page again, saying why and until when (``AXES_LOCKOUT_CALLABLE``).

    429 with ``Retry-After``, in our layout, for the dashboard and the admin
    alike; the form stays so the person can try again once the time has passed.
    """
    username = client_username(request, credentials) or ""
    ends = _lockout_ends(username=username, ip_address=getattr(request, "axes_ip_address", None))
    seconds = max(int((ends - clock.now()).total_seconds()), 1)
    form = auth_forms.AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_out": True,
        "lockout_ends": ends,
        "lockout_minutes": max(round(seconds / 60), 1),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "login_action": _login_action(request),
        "next": request.POST.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


# --- password reset ------------------------------------------------------------


def _count(key: str) -> int:
    """Requests so far in this key's fixed one-hour window (atomic on Redis)."""
    cache.add(key, 0, timeout=RESET_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=RESET_WINDOW_SECONDS)
        return 1


def take_password_reset_request(*, ip_address: str | None, email: str) -> bool:
    """Count one reset request against its client address and its email address;
    ``False`` when either is past ``PASSWORD_RESET_MAX_PER_HOUR`` this hour.

    Both are counted whether or not an account has the address, so the answer
    says nothing about who has an account. The email is hashed: cache keys end
    up in Redis' logs and dumps.
    """
    limit = settings.PASSWORD_RESET_MAX_PER_HOUR
    mail = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_ip = _count(f"pwreset:ip:{ip_address or 'unknown'}")
    by_email = _count(f"pwreset:email:{mail}")
    return by_ip <= limit and by_email <= limit


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, throttled, with links from ``SITE_URL``.

    The same "check your email" page follows whether or not the address has an
    account; past the hourly limit the form comes back with 429 instead and no
    mail goes out.
    """

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if not take_password_reset_request(ip_address=client_ip(self.request), email=email):
            context = self.get_context_data(form=form, throttled=True)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(RESET_WINDOW_SECONDS)
            return response
        # domain_override keeps Django from reading the Host header at all;
        # the template builds the link from site_url.
        self.domain_override = urlsplit(settings.SITE_URL).netloc
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password from a valid link also lifts that person's
    sign-in lockout: they have just proved they hold the account's mailbox."""

    def form_valid(self, form):
        from axes.utils import reset

        response = super().form_valid(form)
        reset(username=form.user.get_username())
        return response
