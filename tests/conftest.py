"""Shared fixtures: alice (manager), bob (responder), vera (viewer) and
charlie (signed in, no group), after healthchecks' alice/bob/charlie."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def alice(db):
    return factories.manager("alice")


@pytest.fixture
def bob(db):
    return factories.responder("bob")


@pytest.fixture
def vera(db):
    return factories.viewer("vera")


@pytest.fixture
def charlie(db):
    return factories.UserFactory(username="charlie")


@pytest.fixture
def incident(db, bob):
    return factories.declare(actor=bob)


@pytest.fixture
def client_for(client):
    """``client_for(user)`` → the test client signed in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
