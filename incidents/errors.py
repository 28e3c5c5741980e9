"""The one application error type (HackSoft styleguide): services raise it,
the API maps it to JSON (400/409), the dashboard shows it inline."""

from __future__ import annotations


class IncidentError(Exception):
    """An illegal or invalid change. Nothing was written.

    ``conflict`` marks a change that is illegal in the incident's current
    state (HTTP 409); otherwise the input itself is invalid (HTTP 400).
    ``field`` names the input at fault, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None, conflict: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict

    def as_dict(self) -> dict:
        body: dict = {"detail": self.message}
        if self.field:
            body["errors"] = {self.field: [self.message]}
        return body


class RateLimited(IncidentError):
    """Refused for now, not for ever: try again after ``retry_after`` seconds
    (HTTP 429 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = max(1, int(retry_after))
