"""The one permission check.

Superusers may do everything. Lab members read everything and write only the lab-scoped records
(subjects, sessions, husbandry, datasets, file records, tasks...) of their own labs. Public users only
read. Anonymous callers reach only the open endpoints, which never call this check.
"""

from __future__ import annotations

from chalicelib.auth import Principal
from chalicelib.errors import NotAuthenticated, PermissionDenied


def require_read(principal: Principal | None) -> Principal:
    if principal is None:
        raise NotAuthenticated("Authentication credentials were not provided.")
    return principal


def require_write(principal: Principal | None, *, what: str, lab: str | None, lab_scoped: bool) -> Principal:
    """``what`` names the record for the error message; ``lab`` is the lab that owns it (None if none)."""
    principal = require_read(principal)
    if principal.is_superuser:
        return principal
    if principal.is_public_user:
        raise PermissionDenied("public users have read-only access")
    if not lab_scoped:
        raise PermissionDenied(f"only superusers may change {what}")
    if lab is None or lab not in principal.labs:
        raise PermissionDenied(f"you are not a member of lab {lab!r}, which owns this {what}")
    return principal


def require_member(principal: Principal | None, *, what: str) -> Principal:
    """Any account but a public one: starting work that reads every lab's records (an analysis run)."""
    principal = require_read(principal)
    if principal.is_public_user and not principal.is_superuser:
        raise PermissionDenied(f"public users have read-only access: they cannot start {what}")
    return principal
