"""How a person is named on every page, message and feed."""

from __future__ import annotations


def display_name(user) -> str:
    """The full name when there is one, else the username."""
    return user.get_full_name() or user.get_username()


def person_of(actor):
    """The person behind ``actor``, or None when it is nobody's: the system,
    the command line or an anonymous request (the record reads TreeBeard)."""
    return actor if getattr(actor, "is_authenticated", False) else None
