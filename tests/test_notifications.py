"""Notifications: Alyx's daily checks and the weighing check, rules per user, e-mail, the schedule."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest

from chalicelib import notifications
from chalicelib.models import Notification
from onecloud.scheduler import Schedule, schedules

TODAY = datetime.date(2026, 3, 4)
NOW = datetime.datetime.combine(TODAY, datetime.time(10, 0))


def _at(days: int, hour: int) -> str:
    return datetime.datetime.combine(TODAY + datetime.timedelta(days=days), datetime.time(hour)).isoformat()


@pytest.fixture
def mouse(api, tmp_path, monkeypatch):
    """M1 of alice, on water restriction since three days, given 1 mL yesterday at 09:00."""
    monkeypatch.setenv("ONECLOUD_MAIL_DIR", str(tmp_path / "mail"))
    api.patch("/users/alice", {"email": "alice@lab.org"})
    api.post("/subjects", {"nickname": "M1", "lab": "cortexlab", "responsible_user": "alice"})
    api.post("/water-restrictions", {"subject": "M1", "start_time": _at(-3, 9), "reference_weight": 22})
    api.post("/water-administrations", {"subject": "M1", "date_time": _at(-1, 9), "water_administered": 1.0})
    return api


def _titles(found):
    return sorted((n.user, n.title) for n in found)


def test_water_still_to_give_23_hours_after_the_last_administration_is_notified(mouse, tmp_path):
    mouse.post("/weighings", {"subject": "M1", "date_time": _at(0, 8), "weight": 20.0})
    found = notifications.check_water_admin(NOW)
    assert _titles(found) == [("alice", "0.8 mL remaining for M1")]
    assert (
        "Delay: 25.0 hours" in found[0].message
        and "Last water administration: 2026-03-03 09:00:00, 1.00 mL" in found[0].message
    )
    mail = list((tmp_path / "mail").glob("*.eml"))
    assert len(mail) == 1 and "0.8 mL remaining for M1" in mail[0].read_text()
    assert Notification.get(found[0].id).status == "sent"
    listed = mouse.get("/notifications?user=alice", user="alice").json_body["results"]
    assert [n["title"] for n in listed] == ["0.8 mL remaining for M1"]


def test_water_given_less_than_23_hours_ago_is_not_notified(mouse):
    mouse.post("/weighings", {"subject": "M1", "date_time": _at(0, 8), "weight": 20.0})
    mouse.post(
        "/water-administrations", {"subject": "M1", "date_time": _at(-1, 12), "water_administered": 0.1}
    )
    assert notifications.check_water_admin(NOW) == []


def test_a_restricted_mouse_not_weighed_today_is_notified(mouse):
    found = notifications.check_water_admin(NOW)
    assert ("alice", 'ATTENTION: subject "M1" weighing missing for 2026-03-04') in _titles(found)


def test_a_restriction_started_today_notifies_nothing(api, tmp_path, monkeypatch):
    monkeypatch.setenv("ONECLOUD_MAIL_DIR", str(tmp_path))
    api.post("/subjects", {"nickname": "M2", "lab": "cortexlab", "responsible_user": "alice"})
    api.post("/weighings", {"subject": "M2", "date_time": _at(-1, 9), "weight": 21.0})
    api.post("/water-restrictions", {"subject": "M2", "start_time": _at(0, 8), "reference_weight": 21})
    assert notifications.check_water_admin(NOW) == []


def test_a_dead_or_unrestricted_mouse_notifies_nothing(mouse):
    mouse.post("/culls", {"subject": "M1", "date": _at(-1, 0)[:10]})
    assert notifications.check_water_admin(NOW) == []


def test_rules_choose_the_recipients_per_kind(mouse):
    mouse.post("/weighings", {"subject": "M1", "date_time": _at(-1, 8), "weight": 22.5})
    mouse.post("/notification-rules", {"kind": "mouse_water", "scope": "none"}, user="alice")
    mouse.post("/notification-rules", {"kind": "mouse_water", "scope": "all"}, user="bob")
    mouse.post("/notification-rules", {"kind": "mouse_not_weighed", "scope": "lab"}, user="bob")
    mouse.post("/notification-rules", {"kind": "mouse_not_weighed", "scope": "mine"}, user="admin")
    found = notifications.check_water_admin(NOW)
    assert _titles(found) == [
        ("alice", 'ATTENTION: subject "M1" weighing missing for 2026-03-04'),
        ("bob", "0.9 mL remaining for M1"),
    ]


def test_a_weighing_at_or_under_the_labs_threshold_is_notified_at_once(mouse):
    mouse.patch("/labs/cortexlab", {"reference_weight_pct": 0.8})
    mouse.patch(
        "/water-restrictions/" + mouse.get("/water-restrictions?subject=M1").json_body["results"][0]["id"],
        {"reference_weight": 20.0},
    )
    mouse.post("/weighings", {"subject": "M1", "date_time": _at(0, 8), "weight": 16.2})
    mouse.post("/weighings", {"subject": "M1", "date_time": _at(0, 9), "weight": 15.9})
    mouse.post("/weighings", {"subject": "M1", "date_time": _at(0, 10), "weight": 19.0})
    titles = [n.title for n in Notification.scan(Notification.kind == "mouse_underweight")]
    assert sorted(titles) == [
        "ATTENTION: M1 weight was 81.0% on 2026-03-04 08:00:00",
        "WARNING: M1 weight was 79.5% on 2026-03-04 09:00:00",
    ]


def test_a_list_of_weighings_is_checked_weighing_by_weighing_in_its_order(mouse):
    """One POST of a day's weighings: each is checked as if posted alone, after the ones before it."""
    mouse.patch("/labs/cortexlab", {"reference_weight_pct": 0.8})
    mouse.patch(
        "/water-restrictions/" + mouse.get("/water-restrictions?subject=M1").json_body["results"][0]["id"],
        {"reference_weight": 20.0},
    )
    weights = ((8, 16.2), (9, 15.9), (10, 19.0))
    answer = mouse.post(
        "/weighings", [{"subject": "M1", "date_time": _at(0, h), "weight": w} for h, w in weights]
    )
    assert answer.status_code == 201
    titles = [n.title for n in Notification.scan(Notification.kind == "mouse_underweight")]
    assert sorted(titles) == [
        "ATTENTION: M1 weight was 81.0% on 2026-03-04 08:00:00",
        "WARNING: M1 weight was 79.5% on 2026-03-04 09:00:00",
    ]


def test_a_list_of_weighings_looks_up_its_subject_lab_and_records_once(mouse, monkeypatch):
    from pynamodb.connection.base import Connection

    from chalicelib.models import Lab, Subject, Weighing

    calls = Counter()
    dispatch = Connection.dispatch

    def counted(self, operation, kwargs, *args, **kw):
        calls[operation, kwargs.get("TableName")] += 1
        return dispatch(self, operation, kwargs, *args, **kw)

    monkeypatch.setattr(Connection, "dispatch", counted)
    days = [{"subject": "M1", "date_time": _at(-d, 8), "weight": 21.0} for d in range(20)]
    assert mouse.post("/weighings", days).status_code == 201
    assert calls["Query", Weighing.Meta.table_name] == 1  # the subject's weighings, for the checks
    assert calls["GetItem", Lab.Meta.table_name] <= 2
    assert calls["GetItem", Subject.Meta.table_name] <= 2
    assert calls["TransactWriteItems", None] == 20  # each weighing with its history entry


def test_a_change_of_responsible_user_tells_both(mouse):
    mouse.patch("/subjects/M1", {"responsible_user": "bob"})
    found = Notification.scan(Notification.kind == "responsible_user_change")
    assert sorted(n.user for n in found) == ["alice", "bob"]


def test_in_aws_mail_goes_through_ses(mouse, monkeypatch):
    from chalicelib import aws

    monkeypatch.delenv("ONECLOUD_MAIL_DIR")
    monkeypatch.setenv("ONECLOUD_MAIL_FROM", "colony@lab.org")
    aws.client("ses").verify_email_identity(EmailAddress="colony@lab.org")
    mouse.post("/weighings", {"subject": "M1", "date_time": _at(0, 8), "weight": 20.0})
    (sent,) = notifications.check_water_admin(NOW)
    assert Notification.get(sent.id).status == "sent"
    assert aws.client("ses").get_send_statistics()["SendDataPoints"][0]["DeliveryAttempts"] >= 1


def test_a_failing_mail_is_retried_three_times_then_given_up(mouse, monkeypatch):
    monkeypatch.delenv("ONECLOUD_MAIL_DIR")
    monkeypatch.setenv("ONECLOUD_SMTP", "127.0.0.1:9")  # nothing listens there
    (sent,) = notifications.check_water_admin(NOW)[:1]
    assert Notification.get(sent.id).status == "to-send"
    notifications.send_pending()
    notifications.send_pending()
    stored = Notification.get(sent.id)
    assert (stored.status, stored.failed_attempts) == ("no-send", 3)


def test_the_daily_check_runs_on_a_schedule_and_on_demand(mouse):
    daily = Schedule("check_water_admin", "cron(0 7 * * ? *)")
    assert daily.next_after(datetime.datetime(2026, 3, 4, 7, 0)) == datetime.datetime(2026, 3, 5, 7, 0)
    assert daily.next_after(datetime.datetime(2026, 3, 4, 6, 59, 30)) == datetime.datetime(2026, 3, 4, 7, 0)
    hourly = Schedule("export_cache", "rate(1 hour)")
    assert hourly.next_after(NOW) == NOW + datetime.timedelta(hours=1)
    from app import app

    found = {s.name: s.next_after(NOW) for s in schedules(app)}
    assert found["check_water_admin"] == datetime.datetime(2026, 3, 5, 7, 0)
    ran = mouse.post("/notification-checks", {"date_time": NOW.isoformat()})
    assert ran.status_code == 200 and ran.json_body["notifications"] == 1
    assert mouse.post("/notification-checks", {}, user="alice").status_code == 403
