"""Accounts: hashed passwords, memberships in existing labs, no duplicate usernames."""

import pytest

from chalicelib.accounts import create_user, ensure_superuser, hash_password, verify_password
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models import Lab, LabMembership, User


def test_a_password_is_stored_only_as_a_salted_hash():
    stored = hash_password("s3cret")
    assert "s3cret" not in stored
    assert stored != hash_password("s3cret")
    assert verify_password("s3cret", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("s3cret", "garbage")


def test_a_user_gets_memberships_starting_today(cloud):
    Lab(name="cortexlab").save()
    create_user("olivier", "pw", email="o@example.org", labs=["cortexlab"])
    (membership,) = LabMembership.query("olivier")
    assert membership.lab == "cortexlab"
    assert membership.start_date
    assert verify_password("pw", User.get("olivier").password_hash)


def test_a_user_of_an_unknown_lab_is_refused(cloud):
    with pytest.raises(NotFound, match="nolab"):
        create_user("olivier", "pw", labs=["nolab"])


def test_usernames_are_unique_and_valid(cloud):
    create_user("olivier", "pw")
    with pytest.raises(Conflict):
        create_user("olivier", "other")
    with pytest.raises(BadRequest, match="username"):
        create_user("bad name", "pw")


def test_seeding_the_superuser_twice_keeps_the_first(cloud):
    assert ensure_superuser("admin", "first")
    assert not ensure_superuser("admin", "second")
    assert verify_password("first", User.get("admin").password_hash)
    assert User.get("admin").is_superuser
