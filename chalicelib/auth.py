"""Who is calling: password log-in for a token, and the principal behind a token.

Tokens are long-lived random keys; only their SHA-256 is stored, so the token table leaks nothing.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from dataclasses import dataclass

from chalicelib.accounts import USERNAME, verify_password
from chalicelib.errors import BadRequest, NotAuthenticated, PermissionDenied
from chalicelib.models import AuthToken, LabMembership, User

INVALID_TOKEN = "Invalid token."
MAX_PASSWORD = (
    1024  # scrypt of a longer one would only cost time  # the exact text the ONE client re-logs in on
)


class InvalidToken(PermissionDenied):
    def __init__(self) -> None:
        super().__init__(INVALID_TOKEN)


@dataclass(frozen=True)
class Principal:
    username: str
    is_superuser: bool = False
    is_public_user: bool = False
    labs: frozenset[str] = frozenset()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(username: str, password: str) -> str:
    """A new token for valid credentials; any failure is the same 400 (no hint which part was wrong)."""
    return issue_token(check_credentials(username, password).username)


def check_credentials(username: str, password: str) -> User:
    """The active user with this password; any failure is the same 400 (the API and the web log-in)."""
    if not username or not password:
        raise BadRequest("username and password are required")
    if not USERNAME.match(username) or len(password) > MAX_PASSWORD:
        raise BadRequest("Unable to log in with provided credentials.")
    try:
        user = User.get(username)
    except User.DoesNotExist:
        user = None
    if user is None or not user.is_active or not verify_password(password, user.password_hash):
        raise BadRequest("Unable to log in with provided credentials.")
    return user


def issue_token(username: str) -> str:
    """A new long-lived token for ``username``; only its hash is kept."""
    token = secrets.token_hex(20)
    AuthToken(token_hash=_digest(token), username=username).save()
    return token


def revoke_tokens(username: str) -> int:
    """Delete every token of ``username`` (the account is deleted or deactivated); how many there were."""
    tokens = list(AuthToken.by_username.query(username))
    for token in tokens:
        token.delete()
    return len(tokens)


def current_labs(username: str, today: datetime.date | None = None) -> frozenset[str]:
    """Labs the user belongs to today (memberships have start and end dates)."""
    day = (today or datetime.date.today()).isoformat()
    return frozenset(
        m.lab
        for m in LabMembership.query(username)
        if (not m.start_date or m.start_date <= day) and (not m.end_date or m.end_date >= day)
    )


def principal_for(user: User) -> Principal:
    return Principal(
        username=user.username,
        is_superuser=user.is_superuser,
        is_public_user=user.is_public_user,
        labs=current_labs(user.username),
    )


def authenticate(authorization: str | None) -> Principal:
    """The principal behind an ``Authorization: Token <key>`` header, or HTTP Basic credentials (what
    ONE's file downloads send: a username with its password, or with a token as the password)."""
    if not authorization:
        raise NotAuthenticated("Authentication credentials were not provided.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "basic":
        return _basic(token.strip())
    if scheme.lower() not in ("token", "bearer") or not token.strip():
        raise InvalidToken()
    try:
        record = AuthToken.get(_digest(token.strip()))
        user = User.get(record.username)
    except (AuthToken.DoesNotExist, User.DoesNotExist):
        raise InvalidToken() from None
    if not user.is_active:
        raise InvalidToken()
    return principal_for(user)


def _basic(encoded: str) -> Principal:
    try:
        username, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise NotAuthenticated("malformed Basic credentials") from None
    if not USERNAME.match(username) or len(secret) > MAX_PASSWORD:
        raise NotAuthenticated("Invalid username/password.")
    try:
        user = User.get(username)
    except User.DoesNotExist:
        raise NotAuthenticated("Invalid username/password.") from None
    if user.is_active and verify_password(secret, user.password_hash):
        return principal_for(user)
    try:
        if AuthToken.get(_digest(secret)).username == username and user.is_active:
            return principal_for(user)
    except AuthToken.DoesNotExist:
        pass
    raise NotAuthenticated("Invalid username/password.")
