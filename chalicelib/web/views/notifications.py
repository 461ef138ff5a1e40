"""A user's notifications (what the daily checks and weighings found) and their rules: per kind, whose
mice's notifications reach them (none, mine, lab, all; without a rule, those of the mice they are
responsible for). Rules are written through the REST engine (``/notification-rules``)."""

from __future__ import annotations

from chalice import Response

from chalicelib import rest
from chalicelib.models import Notification, NotificationRule
from chalicelib.notifications import KINDS, SCOPES
from chalicelib.web.pages import Web, page, redirect, render

SHOWN = 100


@page("/notifications", ("GET", "POST"))
def notifications(web: Web) -> Response:
    me = web.user.username
    rules = {rule.kind: rule for rule in NotificationRule.scan(NotificationRule.user == me)}
    if web.request.method == "POST":
        resource = rest.REGISTRY["notification-rules"]
        for kind in KINDS:
            chosen, rule = web.value(f"scope:{kind}"), rules.get(kind)
            if chosen not in SCOPES:  # the default: no rule
                if rule is not None:
                    rest.delete_item(resource, rule.id, web.ctx)
            elif rule is None:
                rest.create_item(resource, {"kind": kind, "scope": chosen}, web.ctx)
            elif rule.scope != chosen:
                rest.update_item(resource, rule.id, {"scope": chosen}, web.ctx, partial=True)
        return redirect(web, "/notifications", saved="1")
    found = list(Notification.by_user.query(me, scan_index_forward=False, limit=SHOWN))
    return render(
        web,
        "notifications.html",
        title="Your notifications",
        notifications=found,
        kinds=KINDS,
        scopes=SCOPES,
        rules={kind: rule.scope for kind, rule in rules.items()},
        saved=web.query.get("saved"),
    )
