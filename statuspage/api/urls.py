"""The status page's management API, under /api/v1/ beside incidents' (the
root URLconf includes it first): components, groups, maintenances,
subscribers, and publishing an incident."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
