"""The users who may sign in (access.users): Argon2id hashes, one user per member of staff, every change
audited, sessions ended by a new password or by disabling."""

from __future__ import annotations

import pytest

from access import audit, users
from access.audit import Actor
from etl.records import reading

BY = Actor("an-admin", "10.0.0.7", "S-3", "admin")


def test_a_user_is_stored_with_an_argon2id_hash_never_the_password(records_backend, loaded_roster):
    user = users.add_user(loaded_roster, "S-1", "Ana Costa", "physio", "a long passphrase", by=BY)
    assert (user.username, user.staff_id, user.role, user.enabled, user.session_version) == (
        "S-1", "S-1", "physio", True, 1,
    )  # fmt: skip
    with reading(loaded_roster, users.SCHEMA) as con:
        stored = con.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    assert users.check_password(loaded_roster, "s-1", "a long passphrase") == user, "usernames ignore case"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("eleven char", "at least 12 characters"),
        ("x" * 1025, "at most 1024 characters"),
        ("ana.costa.12", "must not be the username"),
    ],
)
def test_a_password_that_is_too_short_too_long_or_the_username_is_refused(loaded_roster, password, why):
    with pytest.raises(users.UserError, match=why):
        users.add_user(loaded_roster, "S-1", "Ana Costa", "physio", password, by=BY, username="ana.costa.12")
    assert users.list_users(loaded_roster) == []


def test_twelve_characters_are_enough(records_backend, loaded_roster):
    assert users.add_user(loaded_roster, "S-1", "Ana Costa", "physio", "twelve chars", by=BY)


def test_a_wrong_password_an_unknown_name_and_a_disabled_user_all_fail_alike(records_backend, loaded_roster):
    users.add_user(loaded_roster, "S-1", "Ana Costa", "physio", "a long passphrase", by=BY)
    users.add_user(loaded_roster, "S-3", "Cara Lee", "admin", "another passphrase", by=BY)
    assert users.check_password(loaded_roster, "S-1", "a wrong passphrase") is None
    assert users.check_password(loaded_roster, "nobody", "a long passphrase") is None
    users.set_enabled(loaded_roster, "S-1", False, by=BY)
    assert users.check_password(loaded_roster, "S-1", "a long passphrase") is None


def test_an_unknown_name_is_checked_against_a_hash_as_costly_as_a_real_one():
    """The stand-in hash checked for an unknown name is written out in the code: it must have the parameters
    the hasher gives a real password now (memory, time, lanes), or a wrong name would answer faster than
    a wrong password, and tell that nobody has that name."""
    import argon2

    real = argon2.PasswordHasher()  # what access.users hashes with (these tests swap in a quicker one)
    assert not real.check_needs_rehash(users._NOBODY)
    assert argon2.extract_parameters(users._NOBODY) == argon2.extract_parameters(real.hash("x" * 12))
    assert real.verify(users._NOBODY, "no such user: a hash to take the time a real one would")


def test_one_user_per_member_of_staff_and_per_name(records_backend, loaded_roster):
    users.add_user(loaded_roster, "S-1", "Ana Costa", "physio", "a long passphrase", by=BY, username="ana")
    with pytest.raises(users.UserError, match="S-1 already has a user: 'ana'"):
        users.add_user(loaded_roster, "S-1", "Ana Costa", "admin", "a long passphrase", by=BY)
    with pytest.raises(users.UserError, match="already a user named 'ANA'"):
        users.add_user(loaded_roster, "S-2", "Ben Okafor", "instructor", "a long passphrase", by=BY, username="ANA")


def test_a_user_must_be_on_the_staff_roster(loaded_roster, tmp_path):
    assert users.roster_member(loaded_roster, "S-2") == ("Ben Okafor", "instructor")
    with pytest.raises(users.UserError, match="'S-9' is not a staff_id of the roster"):
        users.roster_member(loaded_roster, "S-9")
    with pytest.raises(users.UserError, match="load it first"):
        users.roster_member(tmp_path / "none.duckdb", "S-1")


def test_a_new_password_or_disabling_ends_the_sessions_and_enabling_does_not_bring_them_back(
    records_backend, loaded_roster
):
    users.add_user(loaded_roster, "S-1", "Ana Costa", "physio", "a long passphrase", by=BY)
    users.add_user(loaded_roster, "S-3", "Cara Lee", "admin", "another passphrase", by=BY)
    assert users.change_password(loaded_roster, "S-1", "a newer passphrase", by=BY).session_version == 2
    assert users.check_password(loaded_roster, "S-1", "a long passphrase") is None
    assert users.check_password(loaded_roster, "S-1", "a newer passphrase")
    assert users.set_enabled(loaded_roster, "S-1", False, by=BY).session_version == 3
    assert users.set_enabled(loaded_roster, "S-1", True, by=BY).session_version == 3
    assert users.change_role(loaded_roster, "S-1", "instructor", by=BY).session_version == 3, "in force at once"


def test_the_only_admin_cannot_be_disabled_or_lose_the_role(records_backend, loaded_roster):
    users.add_user(loaded_roster, "S-3", "Cara Lee", "admin", "another passphrase", by=BY)
    assert users.has_admin(loaded_roster)
    with pytest.raises(users.UserError, match="only enabled admin"):
        users.set_enabled(loaded_roster, "S-3", False, by=BY)
    with pytest.raises(users.UserError, match="only enabled admin"):
        users.change_role(loaded_roster, "S-3", "physio", by=BY)
    users.add_user(loaded_roster, "S-1", "Ana Costa", "admin", "a long passphrase", by=BY)
    users.set_enabled(loaded_roster, "S-3", False, by=BY)
    assert users.has_admin(loaded_roster)


def test_an_unknown_role_or_user_is_refused_in_words(records_backend, loaded_roster):
    with pytest.raises(users.UserError, match="the role is one of physio, instructor, admin, not 'boss'"):
        users.add_user(loaded_roster, "S-1", "Ana Costa", "boss", "a long passphrase", by=BY)
    with pytest.raises(users.UserError, match="no user named 'ghost'"):
        users.change_password(loaded_roster, "ghost", "a long passphrase", by=BY)
    with pytest.raises(users.UserError, match="no user named 'ghost'"):
        users.set_enabled(loaded_roster, "ghost", True, by=BY)


def test_every_change_is_audited_with_who_made_it_and_never_the_password(records_backend, loaded_roster):
    users.add_user(loaded_roster, "S-1", "Ana Costa", "physio", "a long passphrase", by=BY)
    users.change_password(loaded_roster, "S-1", "a newer passphrase", by=BY)
    users.set_enabled(loaded_roster, "S-1", False, by=BY)
    rows = audit.read(loaded_roster, action="user_change")
    assert list(rows["what"]) == [
        "disabled of user S-1 (S-1)",
        "changed the password of user S-1 (S-1)",
        "added user S-1 (S-1, Ana Costa) as physio",
    ]
    assert set(rows["username"]) == {"an-admin"} and set(rows["address"]) == {"10.0.0.7"}
    assert not rows["what"].str.contains("passphrase").any()


def test_the_session_secret_is_made_once_and_kept(records_backend, loaded_roster):
    first = users.session_secret(loaded_roster)
    assert len(first) == 64 and users.session_secret(loaded_roster) == first
