"""The one application error type (HackSoft styleguide): services raise it,
the API maps it to JSON (400/409), the dashboard shows it inline."""

from __future__ import annotations


class DomainError(Exception):
    """An illegal or invalid change, of anything people edit. Nothing was written.

    ``conflict`` marks a change that is illegal in the current state (an
    incident already acknowledged, an integration that has alerts: HTTP 409);
    otherwise the input itself is invalid (HTTP 400).
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


class IncidentError(DomainError):
    """A change the guide does not allow for this incident (acknowledge twice,
    resolve without a root cause…). Raised by ``incident_<verb>`` services;
    everything else raises ``DomainError``, and callers catch ``DomainError``."""


class RateLimited(DomainError):
    """Refused for now, not for ever: try again after ``retry_after`` seconds
    (HTTP 429 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = max(1, int(retry_after))
