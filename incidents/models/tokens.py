"""Personal API tokens (only the hash is stored)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    INGEST = "ingest", "Ingest (posts alerts only; no REST call)"


class ApiToken(models.Model):
    """A personal API key. Only its SHA-256 is stored; the key is shown once.

    Keys carry 256 bits of randomness, so a fast hash is enough (a slow
    password hash would only slow every API call).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}, {', '.join(self.scopes)})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
