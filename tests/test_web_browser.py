"""The web pages in a real headless Chromium against the local stack; a screenshot of each page.

One lab's day, as a technician does it: find the restricted mice, weigh and water them, start and end a
restriction, read a mouse's water history and weight chart, write a session narrative with a photo.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
import requests

from tests.webpages import png

pytestmark = pytest.mark.e2e


def _at(days_ago: int, hour: int) -> str:
    day = datetime.date.today() - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(day, datetime.time(hour)).isoformat()


@pytest.fixture(scope="module")
def lab_day(ui_stack):
    """cortexlab at 80 %: three restricted mice weighed over two weeks (one near, one under the minimum,
    one fine), one free mouse, a session with a failed task. Nicknames are unique to this run."""
    tag = uuid.uuid4().hex[:4].upper()
    names = {key: f"{key}{tag}" for key in ("NEAR", "LOW", "OK", "FREE")}
    rest = ui_stack.rest
    if "C57BL/6J" not in {line["name"] for line in rest("get", "/lines?limit=1000").json()["results"]}:
        created = rest("post", "/lines", json={"name": "C57BL/6J", "lab": "cortexlab"})
        assert created.status_code == 201, created.text
    for key, nickname in names.items():
        answer = rest(
            "post",
            "/subjects",
            json={
                "nickname": nickname,
                "lab": "cortexlab",
                "responsible_user": "alice",
                "sex": "F" if key != "OK" else "M",
                "birth_date": "2026-06-01",
                "line": "C57BL/6J",
            },
        )
        assert answer.status_code == 201, answer.text
    finals = {"NEAR": 16.2, "LOW": 15.9, "OK": 19.1}
    for key, final in finals.items():
        nickname = names[key]
        rest(
            "post",
            "/water-restrictions",
            json={"subject": nickname, "start_time": _at(14, 8), "reference_weight": 20.0},
        )
        for days in range(14, 0, -1):
            weight = 20.0 - (20.0 - final) * (14 - days) / 13
            rest(
                "post",
                "/weighings",
                json={"subject": nickname, "date_time": _at(days, 9), "weight": round(weight, 2)},
            )
            rest(
                "post",
                "/water-administrations",
                json={"subject": nickname, "date_time": _at(days, 17), "water_administered": 0.8},
            )
    rest("post", "/weighings", json={"subject": names["OK"], "date_time": _at(0, 9), "weight": 19.1})
    rest("post", "/weighings", json={"subject": names["NEAR"], "date_time": _at(0, 9), "weight": 16.2})
    rest("post", "/weighings", json={"subject": names["FREE"], "date_time": _at(0, 9), "weight": 24.0})
    monday = datetime.date.today() - datetime.timedelta(days=datetime.date.today().weekday())
    sessions = []
    for offset in range(4):
        day = monday + datetime.timedelta(days=offset)
        if day > datetime.date.today():
            break
        answer = rest(
            "post",
            "/sessions",
            json={
                "subject": names["OK"],
                "lab": "cortexlab",
                "start_time": f"{day.isoformat()}T10:00:00",
                "number": 1,
                "users": ["alice"],
                "task_protocol": "_iblrig_tasks_trainingChoiceWorld6.4.2",
                "n_trials": 612,
                "n_correct_trials": 498,
            },
        )
        assert answer.status_code == 201, answer.text
        sessions.append(answer.json()["id"])
    task = rest(
        "post",
        "/tasks",
        json={
            "name": f"TrainingStatus{tag}",
            "session": sessions[0],
            "status": "Errored",
            "log": "Traceback (most recent call last):\n  ...\nValueError: no trials table",
        },
    )
    assert task.status_code == 201, task.text
    return {"names": names, "sessions": sessions, "stack": ui_stack}


def test_a_technician_finds_the_restricted_mice_on_the_colour_coded_list(ui, lab_day):
    names = lab_day["names"]
    page = ui.page("alice")
    assert page.get_by_role("link", name=names["NEAR"]).first.is_visible()
    ui.shot(page, "home")
    ui.goto(page, "/subjects")
    colours = {
        key: page.locator(f'tr[data-subject="{nickname}"] .pct').evaluate(
            "e => getComputedStyle(e).backgroundColor"
        )
        for key, nickname in names.items()
    }
    assert colours["NEAR"] == "rgb(255, 165, 0)"  # orange: 81.0 %
    assert colours["LOW"] == "rgb(255, 0, 0)"  # red: 79.5 %
    assert colours["OK"] == "rgb(0, 128, 0)"  # green
    assert page.locator(f'tr[data-subject="{names["NEAR"]}"] .pct').inner_text().startswith("81.0%")
    assert page.locator(f'tr[data-subject="{names["FREE"]}"] .pct').inner_text() == "-"
    ui.shot(page, "subjects")
    phone = ui.page("alice", width=390, height=844)
    ui.goto(phone, "/subjects")
    ui.shot(phone, "subjects-phone")


def test_weighing_and_watering_through_the_forms_is_read_back_through_the_api(ui, lab_day):
    names, stack = lab_day["names"], lab_day["stack"]
    page = ui.page("alice")
    ui.goto(page, "/weighings/add")
    assert page.evaluate("document.activeElement.name") == "weight"  # the weight field has the focus
    page.get_by_label("Subject").select_option(names["LOW"])
    page.get_by_label("Weight (g)").fill("16.05")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").wait_for()
    ui.shot(page, "weighing-add")
    weighings = stack.rest("get", f"/weighings?subject={names['LOW']}").json()["results"]
    assert weighings[-1]["weight"] == 16.05 and weighings[-1]["user"] == "alice"

    ui.goto(page, "/water-administrations/add")
    assert page.evaluate("document.activeElement.name") == "water_administered"
    groups = page.locator("#f-subject optgroup").first
    assert groups.get_attribute("label") == "On water restriction"
    page.get_by_label("Subject").select_option(names["NEAR"])
    page.get_by_label("Water administered (mL)").fill("0.45")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_label("Subject").input_value() == names["NEAR"]  # the last subject, preselected
    ui.shot(page, "water-add")
    given = stack.rest("get", f"/water-administrations?subject={names['NEAR']}").json()["results"]
    assert any(g["water_administered"] == 0.45 for g in given)

    for path in ("/weighings/add", "/water-administrations/add", "/water-restrictions", "/surgeries"):
        ui.goto(page, path)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                   .filter(e => !e.labels || e.labels.length === 0).map(e => e.name)"""
        )
        assert unlabelled == [], (path, unlabelled)  # every control has a label a screen reader reads

    ui.goto(page, "/water-administrations/add")
    page.get_by_label("Subject").select_option(names["NEAR"])
    page.get_by_label("Water administered (mL)").fill("-1")
    page.get_by_role("button", name="Save").click()
    assert page.locator("#e-water_administered").is_visible()  # the error next to the field


def test_water_history_subject_page_and_restrictions(ui, lab_day):
    names, stack = lab_day["names"], lab_day["stack"]
    page = ui.page("alice")
    ui.goto(page, f"/subjects/{names['NEAR']}/water-history")
    assert page.locator("figure.chart svg").is_visible()
    today = datetime.date.today().isoformat()
    api = stack.rest("get", f"/water-requirement/{names['NEAR']}").json()
    row = page.locator(f'tr[data-date="{today}"] td')
    assert row.nth(2).inner_text() == f"{api['expected_weight']:.1f}"
    ui.shot(page, "water-history")
    ui.goto(page, f"/subjects/{names['NEAR']}")
    ui.shot(page, "subject")

    ui.goto(page, "/water-restrictions")
    page.get_by_label("Subject").select_option(names["FREE"])
    assert page.get_by_label("Reference weight (g)").input_value() == "24.00"  # its current weight
    page.get_by_role("button", name="Start restriction").click()
    page.get_by_role("status").wait_for()
    ui.shot(page, "restrictions")
    started = stack.rest("get", f"/water-restrictions?subject={names['FREE']}").json()["results"]
    assert [(r["reference_weight"], r["end_time"]) for r in started] == [(24.0, None)]
    page.get_by_role("button", name=f"End the restriction of {names['FREE']}").click()
    page.get_by_role("status").wait_for()
    ended = stack.rest("get", f"/water-restrictions?subject={names['FREE']}").json()["results"]
    assert ended[0]["end_time"]


def test_a_session_narrative_with_a_photo(ui, lab_day, tmp_path):
    eid, stack = lab_day["sessions"][0], lab_day["stack"]
    page = ui.page("alice")
    ui.goto(page, f"/sessions/{eid}")
    narrative = "Good session; licks on both spouts. Weight before: 19.0 g."
    page.get_by_role("textbox", name="Narrative").fill(narrative)
    page.get_by_role("button", name="Save narrative").click()
    page.get_by_text("Narrative saved.").wait_for()
    photo = tmp_path / "setup.png"
    photo.write_bytes(png(320, 200, (40, 120, 200)))
    page.get_by_label("New note").fill("The rig after the session")
    page.get_by_label("Image (optional: PNG, JPEG, GIF or WebP)").set_input_files(str(photo))
    page.get_by_role("button", name="Add note").click()
    thumbnail = page.locator("#notes article img").first
    thumbnail.wait_for()
    loaded = (
        "img => img.complete"
        " || new Promise(done => ['load', 'error'].forEach(e => img.addEventListener(e, done)))"
    )
    thumbnail.evaluate(loaded)
    assert thumbnail.evaluate("img => img.naturalWidth") == 320
    ui.shot(page, "session")
    session = stack.rest("get", f"/sessions/{eid}").json()
    assert session["narrative"].startswith("Good session")
    note = stack.rest("get", f"/notes?object_id={eid}").json()["results"][0]
    assert note["text"] == "The rig after the session" and note["image"].endswith("/image")
    assert requests.get(note["image"], timeout=10, allow_redirects=False).status_code == 401  # anonymous


def test_lists_and_a_lab_member_cannot_reach_another_labs_forms(ui, lab_day):
    names, eid = lab_day["names"], lab_day["sessions"][0]
    page = ui.page("alice")
    for path, name in (
        ("/sessions", "sessions"),
        ("/surgeries", "surgeries"),
        (f"/training-week/{datetime.date.today().isoformat()}", "training-week"),
        ("/tasks?status=Errored&lab=cortexlab", "tasks"),
    ):
        ui.goto(page, path)
        ui.shot(page, name)
    ui.goto(page, "/tasks?status=Errored&lab=cortexlab")
    assert page.get_by_text("ValueError: no trials table").first.is_visible()

    other = ui.page("bob")
    ui.goto(other, f"/sessions/{eid}")
    assert other.locator("textarea").count() == 0  # read only for another lab
    ui.goto(other, "/weighings/add")
    assert other.locator(f'option[value="{names["NEAR"]}"]').count() == 0
