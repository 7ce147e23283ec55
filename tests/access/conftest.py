"""The unit tests of users hash with Argon2id at a small cost: what they check (the hash is Argon2id,
passwords verify, sessions end) does not depend on the cost, and the pages' tests sign in against the
real one (hipline's own default)."""

from __future__ import annotations

import argon2
import pytest

from access import users


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(users, "_hasher", argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
