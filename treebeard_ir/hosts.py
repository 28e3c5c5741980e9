"""The status-page host serves the status page and nothing else.

Requests whose Host is ``STATUS_PAGE_HOST`` are routed to ``statuspage.urls``
and may reach only the status page's own paths. Everything else there (the
sign-in page, the dashboard, the admin, password reset, the API) is a plain
404 answered before sessions, CSRF and authentication run: no redirect to a
sign-in page, no cookie, nothing an attacker could phish with under the
public, trusted name.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.urls import Resolver404, resolve

# The status page's own URLs are exactly those statuspage/urls.py resolves;
# /static/ is served by WhiteNoise before this middleware (a missing file
# falls through to a 404).
STATUS_PREFIXES = ("/static/",)
STATUS_URLCONF = "statuspage.host_urls"


def is_status_host(request: HttpRequest) -> bool:
    try:
        host = request.get_host()
    except DisallowedHost:
        return False  # CommonMiddleware answers 400 for it
    domain, _port = split_domain_port(host)
    return domain == settings.STATUS_PAGE_HOST


def is_status_path(path: str) -> bool:
    if path.startswith(STATUS_PREFIXES):
        return True
    try:
        resolve(path, urlconf=STATUS_URLCONF)
    except Resolver404:
        return False
    return True


class StatusHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_status_host(request):
            if not is_status_path(request.path_info):
                from statuspage.views import not_found

                return not_found(request)
            request.urlconf = STATUS_URLCONF
        return self.get_response(request)
