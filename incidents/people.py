"""How a person is named on every page, message and feed."""

from __future__ import annotations


def display_name(user) -> str:
    """The full name when there is one, else the username."""
    return user.get_full_name() or user.get_username()
