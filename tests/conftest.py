"""Shared fixtures: alice (manager), bob (responder), vera (viewer) and
charlie (signed in, no group), after healthchecks' alice/bob/charlie."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.2 s per user made; tests need working logins, not slow hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
