"""The admin's "Engine status" page: the watchdog's figures for managers.

Not a model, so it is a plain admin view added to the site's URLs and linked
from the admin index (``admin/treebeard_index.html``).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path

from ..engine.watchdog import engine_health


def engine_status(request: HttpRequest) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Engine status",
        "health": engine_health(),
    }
    return TemplateResponse(request, "admin/engine_status.html", context)


def _with_engine_status(get_urls):
    def get_urls_with_engine_status():
        page = path("engine-status/", admin.site.admin_view(engine_status), name="engine-status")
        return [page, *get_urls()]

    return get_urls_with_engine_status


admin.site.get_urls = _with_engine_status(admin.site.get_urls)
admin.site.index_template = "admin/treebeard_index.html"
