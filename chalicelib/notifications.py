"""Notifications, as Alyx sends them (``alyx/actions/notifications.py``).

Kinds: ``mouse_water`` (water still to give 23 hours after the last administration), ``mouse_not_weighed``
(a restricted mouse not weighed today), ``mouse_underweight`` (a weighing at or under the lab's threshold
+ 2 points, right after it is recorded) and ``responsible_user_change``. The daily check
(``check_water_admin``) looks at every alive subject under an open water restriction.

Recipients, per kind: the subject's responsible user, minus users whose rule for the kind is ``none``,
plus users whose rule's scope covers the subject (``mine``: they are responsible for it; ``lab``: they are
a member of its lab; ``all``). Each recipient gets their own notification (listed by ``GET
/notifications`` and on the home page) and, when they have an address, an e-mail (``chalicelib.mail``);
a failed e-mail is retried by the next run, at most 3 times.
"""

from __future__ import annotations

import datetime
from textwrap import dedent

from chalicelib import mail
from chalicelib.auth import current_labs
from chalicelib.fields import parse_datetime
from chalicelib.husbandry import Records, lab_named, records_of, requirement_from, requirement_of, rule_of
from chalicelib.models import (
    Lab,
    Notification,
    NotificationRule,
    Subject,
    User,
    WaterAdministration,
    WaterRestriction,
    Weighing,
)
from chalicelib.observability import logger

KINDS = ("responsible_user_change", "mouse_underweight", "mouse_water", "mouse_training", "mouse_not_weighed")
SCOPES = ("none", "mine", "lab", "all")
MIN_DELAY_SECONDS = {"responsible_user_change": 3600, "mouse_underweight": 3600, "mouse_water": 3600}
MAX_RESEND = 3
DAY_DELAY = datetime.timedelta(hours=23) - datetime.timedelta(seconds=10)


def _in_scope(user: str, subject: Subject, scope: str) -> bool:
    if scope == "mine":
        return subject.responsible_user == user
    if scope == "lab":
        return subject.lab in current_labs(user)
    return scope == "all"


def recipients(kind: str, subject: Subject | None, users: list[str] | None = None) -> list[str]:
    chosen = set(users if users is not None else [subject.responsible_user] if subject else [])
    chosen.discard(None)
    rules = {rule.user: rule.scope for rule in NotificationRule.scan(NotificationRule.kind == kind)}
    chosen -= {user for user, scope in rules.items() if scope == "none"}
    if subject is not None:
        chosen |= {user for user, scope in rules.items() if _in_scope(user, subject, scope)}
    return sorted(chosen)


def _recent(kind: str, title: str, subject: Subject | None, now: datetime.datetime) -> bool:
    """Alyx does not repeat a notification within its kind's minimum delay."""
    delay = MIN_DELAY_SECONDS.get(kind)
    if not delay or subject is None:
        return False
    since = (now - datetime.timedelta(seconds=delay)).isoformat(timespec="seconds")
    return any(
        n.kind == kind and n.title == title and n.status != "no-send"
        for n in Notification.by_subject.query(subject.id, Notification.date_time >= since)
    )


def notify(
    kind: str,
    title: str,
    subject: Subject | None,
    *,
    details: str = "",
    users: list[str] | None = None,
    now: datetime.datetime | None = None,
) -> list[Notification]:
    """One notification per recipient, e-mailed at once when possible."""
    now = now or datetime.datetime.now()
    if _recent(kind, title, subject, now):
        return []
    made = []
    for user in recipients(kind, subject, users):
        notification = Notification(
            user=user,
            kind=kind,
            title=title,
            message=f"{title}\n\n{details}".strip() + "\n",
            subject=subject.nickname if subject else None,
            subject_id=subject.id if subject else "-",
            lab=subject.lab if subject else None,
            date_time=now.isoformat(timespec="seconds"),
        )
        notification.save()
        made.append(notification)
    for notification in made:
        send(notification)
    return made


def send(notification: Notification) -> bool:
    """E-mail one notification; a failure is counted, and after MAX_RESEND it is given up."""
    try:
        address = User.get(notification.user).email
    except User.DoesNotExist:
        address = ""
    if not address:
        notification.update(
            actions=[
                Notification.status.set("no-send"),
                Notification.last_error.set("the user has no e-mail"),
            ]
        )
        return False
    try:
        where = mail.send(
            address, f"[onecloud] {notification.title}", notification.message, reference=notification.id
        )
    except Exception as error:  # noqa: BLE001 - any mail failure is retried, then given up
        attempts = int(notification.failed_attempts or 0) + 1
        status = "no-send" if attempts >= MAX_RESEND else "to-send"
        notification.update(
            actions=[
                Notification.failed_attempts.set(attempts),
                Notification.status.set(status),
                Notification.last_error.set(str(error)[:500]),
            ]
        )
        logger.warning("notification e-mail failed", notification=notification.id, error=str(error))
        return False
    notification.update(
        actions=[
            Notification.status.set("sent"),
            Notification.sent_at.set(datetime.datetime.now().isoformat(timespec="seconds")),
        ]
    )
    logger.info("notification sent", notification=notification.id, to=notification.user, where=where)
    return True


def send_pending() -> int:
    """Retry every notification still to send; returns how many went out."""
    return sum(send(n) for n in Notification.scan(Notification.status == "to-send"))


def _open_restriction(subject: Subject, now: datetime.datetime) -> WaterRestriction | None:
    for restriction in WaterRestriction.by_subject.query(subject.id):
        started = parse_datetime(restriction.start_time) <= now
        if started and (restriction.end_time is None or parse_datetime(restriction.end_time) > now):
            return restriction
    return None


def check_water_administration(subject: Subject, now: datetime.datetime) -> list[Notification]:
    restriction = _open_restriction(subject, now)
    if restriction is None:
        return []
    start = parse_datetime(restriction.start_time)
    if start.date() == now.date():
        return []
    remaining = requirement_of(subject, on=now.date()).remaining_water
    given = [
        (parse_datetime(w.date_time), float(w.water_administered or 0))
        for w in WaterAdministration.by_subject.query(subject.id)
        if parse_datetime(w.date_time) <= now
    ]
    last = max(given) if given else None
    delay = now - (last[0] if last else start)
    if remaining is None or remaining <= 0 or delay < DAY_DELAY:
        return []
    title = f"{remaining:.1f} mL remaining for {subject.nickname}"
    last_text = f"{last[0]:%Y-%m-%d %H:%M:%S}, {last[1]:.2f} mL" if last else "none since the restriction"
    details = dedent(
        f"""\
        Mouse: {subject.nickname}
        User: {subject.responsible_user or "-"}
        Date: {now:%Y-%m-%d %H:%M:%S}
        Last water administration: {last_text}
        Remaining water: {remaining:.1f} mL
        Delay: {delay.total_seconds() / 3600:.1f} hours"""
    )
    return notify("mouse_water", title, subject, details=details, now=now)


def check_weighed(subject: Subject, now: datetime.datetime) -> list[Notification]:
    restriction = _open_restriction(subject, now)
    if restriction is None:
        return []
    if parse_datetime(restriction.start_time).date() == now.date() and restriction.reference_weight:
        return []
    weighed_today = any(
        parse_datetime(w.date_time).date() == now.date() and parse_datetime(w.date_time) <= now
        for w in Weighing.by_subject.query(subject.id)
    )
    if weighed_today:
        return []
    title = f'ATTENTION: subject "{subject.nickname}" weighing missing for {now.date().isoformat()}'
    return notify("mouse_not_weighed", title, subject, now=now)


def check_underweight(
    subject: Subject,
    weighed_at: datetime.datetime,
    records: Records | None = None,
    lab: Lab | None = None,
) -> list[Notification]:
    """After a weighing: at or under the lab's threshold + 2 points is an ATTENTION, under it a WARNING.
    ``records`` and ``lab``: the subject's records and lab when already read (a list of weighings)."""
    lab = lab or lab_named(subject.lab)
    if lab is None:
        return []
    figures = requirement_from(subject, records or records_of(subject), rule_of(lab), weighed_at.date())
    percentage = figures.percentage_weight
    minimum = 100 * rule_of(lab).minimum_fraction
    if not figures.water_restricted or percentage is None or not 0 < percentage <= minimum + 2:
        return []
    header = "WARNING" if percentage <= minimum else "ATTENTION"
    title = f"{header}: {subject.nickname} weight was {percentage:.1f}% on {weighed_at.isoformat(sep=' ')}"
    return notify("mouse_underweight", title, subject, now=weighed_at)


def check_water_admin(now: datetime.datetime | None = None) -> list[Notification]:
    """The daily check, over every alive subject with an open water restriction."""
    now = now or datetime.datetime.now()
    made: list[Notification] = []
    seen: set[str] = set()
    for restriction in WaterRestriction.scan(WaterRestriction.end_time.does_not_exist()):
        if restriction.subject_id in seen:
            continue
        seen.add(restriction.subject_id)
        try:
            subject = Subject.get(restriction.subject_id)
        except Subject.DoesNotExist:
            continue
        if subject.death_date and subject.death_date <= now.date().isoformat():
            continue
        made += check_water_administration(subject, now)
        made += check_weighed(subject, now)
    return made
