"""The audit log of managers' changes: who changed which policy, schedule,
override, channel, integration, token or group membership, when, through
which entry point, and what it was before and after."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .incident import AppendOnlyQuerySet


class EntryPoint(models.TextChoices):
    API = "api", "REST API"
    ADMIN = "admin", "Admin"
    DASHBOARD = "dashboard", "Dashboard"
    TASK = "task", "Background task"
    COMMAND = "command", "Command line"


class AuditEntry(models.Model):
    """One change, written by the service that made it, in its transaction.

    Append-only, like the timeline. ``actor_name`` keeps who it was when the
    person is later deleted (``actor`` then becomes null). ``before`` and
    ``after`` hold the changed fields only, secrets masked.
    """

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    entry_point = models.CharField(max_length=12, choices=EntryPoint.choices)
    # The service that made the change: "schedule_delete", "override_add", …
    action = models.CharField(max_length=48)
    # What was changed: its kind ("schedule"), id and name as it was.
    object_type = models.CharField(max_length=48)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [
            # One object's history, newest first (admin and ?object_type=&object_id=).
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object"),
            # One person's changes, newest first (the API's ?actor=, by the
            # name, which keeps the rows of people deleted since).
            models.Index(fields=["actor_name", "-at"], name="audit_actor"),
            # The whole log, newest first.
            models.Index(fields=["-at"], name="audit_at"),
        ]

    def __str__(self) -> str:
        who = self.actor_name or "TreeBeard"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The audit log is append-only: entries are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The audit log is append-only: entries are never deleted.")
