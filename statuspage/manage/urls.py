"""The communications lead's status-page screen in the dashboard (/status-page/)."""

from django.urls import path  # noqa: F401

app_name = "statuspage-manage"

urlpatterns: list = []
