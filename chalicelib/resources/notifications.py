"""Notifications (read only: the checks write them) and each user's notification rules."""

from __future__ import annotations

from typing import Any

from chalicelib.fields import Field
from chalicelib.models import Notification, NotificationRule
from chalicelib.notifications import KINDS, SCOPES
from chalicelib.resources.common import exact
from chalicelib.rest import Context, Resource, register


def _candidates(query: dict[str, str]) -> Any:
    return Notification.by_user.query(query["user"]) if "user" in query else None


register(
    Resource(
        name="notifications",
        singular="notification",
        model=Notification,
        description="What the daily checks and weighings found, one per recipient; e-mailed when possible",
        fields=(
            Field("user", read_only=True),
            Field("kind", read_only=True, choices=KINDS),
            Field("title", read_only=True),
            Field("message", read_only=True),
            Field("subject", read_only=True),
            Field("lab", read_only=True),
            Field("date_time", "datetime", read_only=True),
            Field("status", read_only=True, description="to-send, sent or no-send"),
            Field("sent_at", "datetime", read_only=True),
        ),
        actions=("list", "read"),
        params=(exact("user"), exact("kind"), exact("status"), exact("subject"), exact("lab")),
        candidates=_candidates,
        ordering=lambda n: (n.date_time, n.id),
    )
)


def _rule_build(data: dict[str, Any], ctx: Context) -> NotificationRule:
    if not data.get("user") and ctx.principal:
        data["user"] = ctx.principal.username
    return NotificationRule(**data)


register(
    Resource(
        name="notification-rules",
        singular="notification rule",
        model=NotificationRule,
        description="Per user and kind, whose subjects' notifications reach the user: none, mine, lab, all",
        fields=(
            Field("user", relation="users", description="default: you"),
            Field("kind", required=True, null=False, choices=KINDS),
            Field("scope", required=True, null=False, choices=SCOPES),
        ),
        params=(exact("user"), exact("kind")),
        build=_rule_build,
        owner_of=lambda rule: rule.user,
        ordering=lambda r: (r.user, r.kind),
    )
)
