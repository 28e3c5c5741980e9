"""Post-mortems in the guide's template, their action items, reviews,
participants' feedback, and the trackers action items become tickets in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.models import Incident, TimelineEvent


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


class Postmortem(models.Model):
    """One incident's post-mortem: the guide's sections, owned by its
    incident commander, due 48 hours after resolution."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="postmortem")
    status = models.CharField(
        max_length=10, choices=PostmortemStatus.choices, default=PostmortemStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField()
    meeting_at = models.DateTimeField(null=True, blank=True)
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    # The guide's sections (Markdown, sanitised with nh3 when rendered).
    summary = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    contributing_factors = models.JSONField(default=list, blank=True)
    impact = models.TextField(blank=True)
    services_affected = models.JSONField(default=list, blank=True)
    users_affected = models.TextField(blank=True)
    data_loss = models.BooleanField(default=False)
    data_loss_details = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    what_went_well = models.TextField(blank=True)
    what_could_be_improved = models.TextField(blank=True)
    lessons_learned = models.TextField(blank=True)
    # What the status page says of it once published (public incidents only).
    public_summary = models.TextField(blank=True)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    timeline_imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list's "overdue" filter: unpublished ones by due time.
            models.Index(fields=["status", "due_at"], name="postmortem_status_due"),
        ]

    def __str__(self) -> str:
        return f"Post-mortem of {self.incident.ref}"


class TimelineEntry(models.Model):
    """A line of the post-mortem's timeline, imported from an incident event
    (still linked to it) or written by hand."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="timeline")
    event = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField()
    # The key moment the event was marked as ("detection", …), if any.
    moment = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M} {self.text[:40]}"


class Review(models.Model):
    """A named reviewer's sign-off against the review checklist."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # {"impact_complete": true, …}: the checklist as the reviewer ticked it.
    checklist = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["postmortem", "reviewer"], name="one_review_each")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.postmortem_id}"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


OPEN_ACTIONS = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class ActionKind(models.TextChoices):
    """The guide's follow-up list."""

    FIX = "fix", "Fix"
    RUNBOOK = "runbook", "Update runbook"
    MONITORING = "monitoring", "Improve monitoring/alerts"
    AUTOMATION = "automation", "Automation"
    TRAINING = "training", "Training"
    PROCESS = "process", "Process"


class ActionItem(models.Model):
    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="action_items"
    )
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(
        max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    kind = models.CharField(max_length=12, choices=ActionKind.choices, default=ActionKind.FIX)
    ticket_url = models.URLField(max_length=1000, blank=True)
    # The tracker's word for the ticket's state when known ("open", "closed").
    ticket_state = models.CharField(max_length=40, blank=True)
    tracker = models.ForeignKey(
        "Tracker", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # The backlog: open items by owner and due date.
            models.Index(
                fields=["owner", "due_date"],
                name="action_item_open",
                condition=Q(status__in=["open", "in_progress"]),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTIONS


class TrackerKind(models.TextChoices):
    GITHUB = "github", "GitHub Issues"
    JIRA = "jira", "Jira"
    WEBHOOK = "webhook", "Signed JSON webhook"


class Tracker(models.Model):
    """Where action items become tickets. ``token`` is write-only: the API
    and the admin never show it again."""

    kind = models.CharField(max_length=8, choices=TrackerKind.choices)
    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(max_length=500)
    # "owner/repo" on GitHub, a project key on Jira, unused by webhooks.
    project = models.CharField(max_length=200, blank=True)
    token = models.CharField(max_length=500, blank=True)
    username = models.CharField(max_length=200, blank=True)
    # Webhooks: the HMAC key receivers verify with.
    secret = models.CharField(max_length=64, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Feedback(models.Model):
    """A participant's short word on how the response went (anonymous allowed)."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="feedback")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rating = models.PositiveSmallIntegerField()
    went_well = models.TextField(blank=True)
    could_improve = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Feedback {self.rating}/5 on {self.postmortem_id}"
