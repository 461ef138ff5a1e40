"""Accounts: creating users with their lab memberships, and password hashing.

Passwords are hashed with scrypt (standard library, memory-hard) and a random salt per user.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models import Lab, LabMembership, User
from chalicelib.models.unique import save_unique

USERNAME = re.compile(r"^[\w.@+-]{1,150}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + "$".join(encoded)


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


def create_user(
    username: str,
    password: str,
    *,
    email: str = "",
    labs: Iterable[str] = (),
    is_superuser: bool = False,
    is_public_user: bool = False,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create an account and its lab memberships (starting today). Labs must exist."""
    if not USERNAME.match(username or ""):
        raise BadRequest(f"username {username!r} is invalid: use 1-150 letters, digits and @.+-_")
    if not password:
        raise BadRequest("password may not be blank")
    labs = list(labs)
    for lab in labs:
        if Lab.count(lab) == 0:
            raise NotFound(f"lab {lab!r} does not exist")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        password_hash=hash_password(password),
        is_superuser=is_superuser,
        is_public_user=is_public_user,
    )
    save_unique(user, create=True)
    today = datetime.date.today().isoformat()
    for lab in labs:
        LabMembership(username=username, lab=lab, start_date=today).save()
    return user


def ensure_superuser(username: str, password: str) -> bool:
    """Create the superuser unless an account of that name exists; True when created."""
    try:
        create_user(username, password, is_superuser=True)
    except Conflict:
        return False
    return True
