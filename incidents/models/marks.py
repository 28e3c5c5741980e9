"""Key moments marked on an incident's timeline (detection, diagnosis,
repair, decision). The timeline itself is append-only, so a mark is a row
of its own; the post-mortem highlights marked events and metrics may use them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .incident import TimelineEvent


class MomentKind(models.TextChoices):
    DETECTION = "detection", "Detection"
    DIAGNOSIS = "diagnosis", "Diagnosis"
    REPAIR = "repair", "Repair"
    DECISION = "decision", "Decision"


class TimelineMark(models.Model):
    event = models.OneToOneField(TimelineEvent, on_delete=models.CASCADE, related_name="mark")
    kind = models.CharField(max_length=12, choices=MomentKind.choices)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField()

    class Meta:
        ordering = ["event__at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: event {self.event_id}"
