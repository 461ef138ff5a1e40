"""The daily notification check: an EventBridge schedule in AWS, the local stack's scheduler locally
(``onecloud/scheduler.py``); ``POST /notification-checks`` runs it now (superusers)."""

from __future__ import annotations

import datetime
from typing import Any

from chalice import Blueprint, Cron

from chalicelib import notifications
from chalicelib.errors import BadRequest
from chalicelib.fields import parse_datetime
from chalicelib.handlers.edge import body, principal_of, route
from chalicelib.observability import logger
from chalicelib.permissions import require_write

bp = Blueprint(__name__)
DAILY = Cron(0, 7, "*", "*", "?", "*")  # 07:00 UTC, before the morning round of the animal facility


def run_checks(now: datetime.datetime | None = None) -> dict[str, Any]:
    made = notifications.check_water_admin(now)
    sent = notifications.send_pending()
    summary = {"notifications": len(made), "sent": sent, "titles": sorted({n.title for n in made})}
    logger.info("notification check done", **{k: v for k, v in summary.items() if k != "titles"})
    return summary


@bp.schedule(DAILY, name="check_water_admin")
def check_water_admin(event: Any) -> None:
    """Alyx's daily ``check_water_admin``: water still to give, weighings missing; then send e-mails."""
    run_checks()


@route(
    bp,
    "/notification-checks",
    methods=["POST"],
    content_types=["application/json"],
    openapi={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def notification_check() -> dict:
    """Run the daily check now; ``{"date_time": ...}`` runs it as of that moment."""
    require_write(principal_of(bp.current_request), what="notification checks", lab=None, lab_scoped=False)
    data = body(bp.current_request)
    moment = data.get("date_time") if isinstance(data, dict) else None
    try:
        now = parse_datetime(moment) if moment else None
    except (TypeError, ValueError):
        raise BadRequest(f"date_time: expected an ISO 8601 datetime, got {moment!r}") from None
    return run_checks(now)
