"""The web pages in process: log-in, sessions, CSRF, and what each page shows and writes."""

from __future__ import annotations

import datetime
import html
import re

import pytest
import requests

from tests.webpages import Page, png


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(web):
    answer = web.get("/ui/subjects")
    assert answer.status == 303
    assert answer.location == "/ui/login?next=%2Fsubjects"


def test_every_page_sends_an_anonymous_visitor_to_log_in(web):
    from app import app
    from chalicelib.web.pages import PUBLIC_PAGES, is_page

    assert {"/ui/login", "/ui/releases", "/ui/releases/{name}"} == PUBLIC_PAGES
    for path, methods in app.routes.items():
        if not is_page(path) or path in ("/ui/static/{name}", *PUBLIC_PAGES):
            continue
        concrete = re.sub(r"{\w+}", "x", path)
        answer = web.get(concrete) if "GET" in methods else web.post(concrete, {}, csrf="")
        assert answer.status == 303 and answer.location.startswith("/ui/login"), (path, answer.status)


def test_logging_in_sets_an_httponly_samesite_session_cookie_and_lands_where_asked(web):
    answer = web.post("/ui/login?next=/subjects", {"username": "alice", "password": "alice-pw"})
    assert answer.status == 303 and answer.location == "/ui/subjects"
    session = next(c for c in answer.headers["Set-Cookie"] if c.startswith("onecloud_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
    assert web.get("/ui").status == 200


def test_the_session_cookie_is_secure_when_served_over_https(web):
    token = web.get("/ui/login").csrf()
    answer = web.client.http.post(
        "/ui/login",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"onecloud_csrf={web.cookies['onecloud_csrf']}",
            "X-Forwarded-Proto": "https",
        },
        body=f"csrf_token={token}&username=alice&password=alice-pw",
    )
    assert all("Secure" in cookie for cookie in answer.headers["Set-Cookie"])


def test_a_wrong_password_gives_the_form_back_with_the_error_and_no_session(web):
    answer = web.post("/ui/login", {"username": "alice", "password": "nope"})
    assert answer.status == 400
    assert "Unable to log in with provided credentials." in answer
    assert "onecloud_session" not in web.cookies


def test_a_form_posted_without_the_csrf_token_is_refused_and_writes_nothing(web):
    web.login("alice")
    answer = web.post("/ui/logout", {}, csrf="forged")
    assert answer.status == 403
    assert web.get("/ui").status == 200  # still logged in


def test_a_session_cookie_is_not_an_api_token(web, api):
    web.login("alice")
    key = web.cookies["onecloud_session"]
    answer = api.client.http.get("/me", headers={"Authorization": f"Token {key}"})
    assert answer.status_code == 403


def test_logging_out_ends_the_session(web):
    web.login("alice")
    key = web.cookies["onecloud_session"]
    assert web.post("/ui/logout", {}, csrf=web.get("/ui").csrf()).status == 303
    web.cookies["onecloud_session"] = key  # a stolen copy of the old cookie is worthless too
    assert web.get("/ui").status == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_login_never_redirects_to_another_site(web, target):
    answer = web.post(f"/ui/login?next={target}", {"username": "alice", "password": "alice-pw"})
    assert answer.location == "/ui"


def test_the_home_page_names_the_user_and_their_lab(web):
    page = web.login("alice").get("/ui")
    assert page.status == 200
    assert "alice · cortexlab" in page
    assert "No mouse of cortexlab is on water restriction." in page


def test_static_assets_are_served_by_the_app(web):
    answer = web.get("/ui/static/onecloud.css")
    assert answer.status == 200 and ".pct-low" in answer.text
    assert web.get("/ui/static/..%2Fpages.py").status == 404


def _today(hour: int = 8) -> str:
    return datetime.datetime.combine(datetime.date.today(), datetime.time(hour)).isoformat()


def _ago(days: int, hour: int = 8) -> str:
    day = datetime.date.today() - datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour)).isoformat()


@pytest.fixture
def colony_lab(api):
    """colony-web.md 4.1: a lab at 80 %; A restricted at 20.0 g weighed 16.2 g today, B 15.9 g, C
    restricted once (ended) and weighed today, D never restricted nor weighed."""
    api.patch("/labs/cortexlab", {"reference_weight_pct": 0.8, "zscore_weight_pct": 0})
    for nickname in ("A", "B", "C", "D"):
        answer = api.post(
            "/subjects", {"nickname": nickname, "lab": "cortexlab", "responsible_user": "alice", "sex": "F"}
        )
        assert answer.status_code == 201, answer.body
    for nickname, weight in (("A", 16.2), ("B", 15.9)):
        api.post(
            "/water-restrictions",
            {"subject": nickname, "start_time": _ago(10), "reference_weight": 20.0},
        )
        api.post("/weighings", {"subject": nickname, "date_time": _today(), "weight": weight})
    api.post(
        "/water-restrictions",
        {"subject": "C", "start_time": _ago(20), "end_time": _ago(5), "reference_weight": 20.0},
    )
    api.post("/weighings", {"subject": "C", "date_time": _today(), "weight": 19.0})
    return api


def _band(page, nickname: str) -> str:
    row = re.search(rf'<tr data-subject="{nickname}">(.*?)</tr>', page.text, re.S)
    assert row, f"no row for {nickname}"
    band = re.search(r'data-band="(\w+)"[^>]*>\s*([^<]*)<', row.group(1))
    return f"{band.group(1)} {band.group(2).strip()}"


def test_the_subjects_list_colours_the_weight_percentage_as_alyx(web, colony_lab):
    page = web.login("alice").get("/ui/subjects")
    assert page.status == 200
    assert _band(page, "A") == "near 81.0%"  # orange: within 2 points above the 80 % minimum
    assert _band(page, "B") == "low 79.5%"  # red: under the minimum
    assert _band(page, "C") == "free 95.0%"  # grey: not water-restricted today
    assert _band(page, "D") == "unknown -"  # no reference weight: no percentage
    css = web.get("/ui/static/onecloud.css").text
    for band, colour in (("low", "#FF0000"), ("near", "#FFA500"), ("ok", "#008000"), ("free", "#333333")):
        assert f"--{band}: {colour}" in css


def test_a_user_with_no_mice_of_their_own_sees_every_mouse_by_default(web, colony_lab):
    colony_lab.post("/subjects", {"nickname": "Z", "lab": "cortexlab", "responsible_user": "admin"})
    page = web.login("alice").get("/ui/subjects")
    assert 'data-subject="Z"' not in page.text  # alice has mice: hers only
    page = web.get("/ui/subjects", responsible_user="all")
    assert 'data-subject="Z"' in page.text
    page = WebClientFor(web).login("pub").get("/ui/subjects")  # no mouse of their own
    assert all(f'data-subject="{n}"' in page.text for n in "ABCDZ")


def test_the_to_do_filter_lists_mice_to_genotype_to_cull_or_to_reduce_as_alyx(web, colony_lab):
    colony_lab.patch("/subjects/A", {"to_be_genotyped": True})
    colony_lab.patch("/subjects/B", {"to_be_culled": True})
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    colony_lab.patch("/subjects/C", {"death_date": yesterday})
    colony_lab.patch("/subjects/D", {"death_date": yesterday, "reduced_date": yesterday})
    web.login("alice")

    def listed(todo: str) -> set[str]:
        page = web.get("/ui/subjects", todo=todo, alive="all")
        return set(re.findall(r'<tr data-subject="(\w+)">', page.text))

    assert listed("genotype") == {"A"}
    assert listed("cull") == {"B"}
    assert listed("reduce") == {"C"}  # dead and not yet reduced
    assert listed("") == {"A", "B", "C", "D"}


def test_a_weighing_added_through_the_form_is_read_back_through_the_api(web, colony_lab):
    web.login("alice")
    answer = web.post("/ui/weighings/add", {"subject": "A", "weight": "16.5", "date_time": _today(9)[:16]})
    assert answer.status == 303
    saved = colony_lab.get("/weighings?subject=A").json_body["results"]
    assert [(w["weight"], w["user"]) for w in saved if w["date_time"].endswith("09:00:00")] == [
        (16.5, "alice")
    ]
    page = web.get(answer.location)
    assert "Saved 16.5 g for A" in page


def test_the_add_water_form_lists_restricted_mice_first_focuses_volume_and_remembers_the_subject(
    web, colony_lab
):
    web.login("alice")
    page = web.get("/ui/water-administrations/add")
    options = re.findall(r'<option value="(\w+)"', page.text)
    assert options[:2] == ["A", "B"] and set(options[2:]) >= {"C", "D"}
    assert re.search(r'name="water_administered"[^>]*autofocus', page.text)
    answer = web.post(
        "/ui/water-administrations/add",
        {"subject": "B", "water_administered": "0.6", "water_type": "Water", "date_time": _today(10)[:16]},
    )
    assert answer.status == 303
    given = colony_lab.get("/water-administrations?subject=B").json_body["results"]
    assert [g["water_administered"] for g in given] == [0.6]
    page = web.get("/ui/water-administrations/add")
    assert re.search(r'<option value="B"[^>]*selected', page.text)


def test_water_after_the_death_date_is_refused_next_to_the_date_and_nothing_is_written(web, colony_lab):
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    assert colony_lab.patch("/subjects/B", {"death_date": yesterday}).status_code == 200
    page = web.login("alice").post(
        "/ui/water-administrations/add",
        {"subject": "B", "water_administered": "0.6", "water_type": "Water", "date_time": _today(10)[:16]},
    )
    assert page.status == 400
    error = re.search(r'id="e-date_time"[^>]*>([^<]+)<', page.text)
    assert error and "after the subject's death" in html.unescape(error.group(1))
    assert colony_lab.get("/water-administrations?subject=B").json_body["count"] == 0


def test_a_dead_mouse_is_not_offered_a_water_restriction_and_the_api_refuses_one(web, colony_lab):
    page = web.login("alice").get("/ui/subjects/D", lab="cortexlab")
    assert "Start a water restriction" in page  # alive and not restricted
    today = datetime.date.today().isoformat()
    assert colony_lab.patch("/subjects/D", {"death_date": today}).status_code == 200
    assert "Start a water restriction" not in web.get("/ui/subjects/D", lab="cortexlab")
    refused = colony_lab.post("/water-restrictions", {"subject": "D", "start_time": _today(8)}, user="alice")
    assert refused.status_code == 400  # even on the day it died, which check_alive allows for records
    assert refused.json_body["detail"].startswith(f"subject: D died on {today}; a dead subject cannot be put")
    assert colony_lab.get("/water-restrictions?subject=D").json_body["count"] == 0
    past = {"subject": "D", "start_time": _ago(9), "end_time": _ago(2), "reference_weight": 20.0}
    assert colony_lab.post("/water-restrictions", past, user="alice").status_code == 201  # history


def test_a_bad_weight_gives_the_form_back_with_the_error_next_to_the_field(web, colony_lab):
    page = web.login("alice").post("/ui/weighings/add", {"subject": "A", "weight": "-3", "date_time": ""})
    assert page.status == 400
    assert re.search(r'id="e-weight"', page.text)
    assert 'aria-invalid="true"' in page.text


def test_a_lab_member_cannot_write_through_another_labs_forms(web, colony_lab):
    web.login("bob")
    page = web.get("/ui/weighings/add")
    assert 'value="A"' not in page.text  # cortexlab's mice are not offered to a churchlandlab member
    answer = web.post("/ui/weighings/add", {"subject": "A", "weight": "17", "date_time": _today(11)[:16]})
    assert answer.status == 400 and "not a member of lab 'cortexlab'" in answer
    assert len(colony_lab.get("/weighings?subject=A").json_body["results"]) == 1
    restriction = colony_lab.get("/water-restrictions?subject=A").json_body["results"][0]
    ended = web.post(f"/ui/water-restrictions/{restriction['id']}/end", {}, csrf=web.get("/ui").csrf())
    assert ended.status == 403


def test_starting_and_ending_a_restriction(web, colony_lab):
    web.login("alice")
    page = web.get("/ui/water-restrictions", subject="C")
    assert re.search(r'name="reference_weight"[^>]*value="19.00"', page.text)  # C's current weight
    answer = web.post(
        "/ui/water-restrictions",
        {"subject": "C", "reference_weight": "19.00", "start_time": _today(7)[:16], "water_type": "Water"},
    )
    assert answer.status == 303
    started = [
        r for r in colony_lab.get("/water-restrictions?subject=C").json_body["results"] if not r["end_time"]
    ]
    assert [r["reference_weight"] for r in started] == [19.0]
    ended = web.post(f"/ui/water-restrictions/{started[0]['id']}/end", {}, csrf=web.get("/ui").csrf())
    assert ended.status == 303
    assert colony_lab.get(f"/water-restrictions/{started[0]['id']}").json_body["end_time"]


def test_the_water_history_shows_the_api_numbers_for_each_day(web, colony_lab):
    colony_lab.post(
        "/water-administrations", {"subject": "A", "date_time": _ago(1, 9), "water_administered": 0.4}
    )
    colony_lab.post("/weighings", {"subject": "A", "date_time": _ago(1), "weight": 17.0})
    page = web.login("alice").get("/ui/subjects/A/water-history")
    assert page.status == 200 and "<svg" in page.text
    for days in (0, 1, 3):
        day = (datetime.date.today() - datetime.timedelta(days=days)).isoformat()
        api = colony_lab.get(f"/water-requirement/A?date={day}").json_body
        row = re.search(rf'<tr data-date="{day}"[^>]*>(.*?)</tr>', page.text, re.S).group(1)
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        excess = None if api["remaining_water"] is None else -api["remaining_water"]
        assert cells[2] == _shown(api["expected_weight"], 1)
        assert cells[7] == _shown(api["given_water"], 2)
        assert cells[8] == _shown(api["expected_water"], 2)
        assert cells[9] == _shown(excess, 2)


def _shown(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def WebClientFor(web):  # noqa: N802 - a second browser on the same app
    from tests.webpages import WebClient

    return WebClient(web.client)


def test_the_subject_page_shows_todays_figures_as_the_api_computes_them(web, colony_lab):
    page = web.login("alice").get("/ui/subjects/A")
    assert page.status == 200 and "<svg" in page.text
    api = colony_lab.get("/water-requirement/A").json_body
    block = re.search(r'<dl class="facts" id="water-today">(.*?)</dl>', page.text, re.S).group(1)
    text = html.unescape(re.sub(r"<[^>]+>", " ", block))
    assert f"Expected weight {api['expected_weight']:.2f} g" in " ".join(text.split())
    assert f"Expected water {api['expected_water']:.2f} mL" in " ".join(text.split())
    assert "81.0%" in text


def _session(api, nickname: str = "A", day: str | None = None) -> str:
    start = f"{day or datetime.date.today().isoformat()}T10:00:00"
    answer = api.post(
        "/sessions",
        {"subject": nickname, "start_time": start, "number": 1, "users": ["alice"], "lab": "cortexlab"},
    )
    assert answer.status_code == 201, answer.body
    return answer.json_body["id"]


def _multipart_post(web, path: str, fields: dict, files: dict):
    import requests as http

    prepared = http.Request("POST", "http://x" + path, data=fields, files=files).prepare()
    cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
    response = web.client.http.post(
        path, headers={"Content-Type": prepared.headers["Content-Type"], "Cookie": cookie}, body=prepared.body
    )
    return Page(response)


def test_a_session_narrative_is_saved_and_a_note_with_an_image_shows_a_thumbnail(web, colony_lab):
    eid = _session(colony_lab)
    web.login("alice")
    answer = web.post(f"/ui/sessions/{eid}", {"narrative": "Headplate implant, 0.8 mm craniotomy."})
    assert answer.status == 303
    assert (
        colony_lab.get(f"/sessions/{eid}").json_body["narrative"] == "Headplate implant, 0.8 mm craniotomy."
    )
    token = web.get(f"/ui/sessions/{eid}").csrf()
    image = png()
    answer = _multipart_post(
        web,
        "/ui/notes/add",
        {
            "csrf_token": token,
            "content_type": "session",
            "object_id": eid,
            "text": "craniotomy",
            "next": f"/sessions/{eid}",
        },
        {"image": ("crani.png", image, "image/png")},
    )
    assert answer.status == 303 and answer.location == f"/ui/sessions/{eid}"
    page = web.get(f"/ui/sessions/{eid}")
    thumbnail = re.search(r'<img src="(/ui/notes/([\w-]+)/image)"', page.text)
    assert thumbnail and "craniotomy" in page
    served = web.get(thumbnail.group(1))
    assert served.status == 302
    assert requests.get(served.location, timeout=10).content == image
    assert "delete" not in page.plain.lower()  # notes cannot be deleted from the session page
    anonymous = WebClientFor(web).get(thumbnail.group(1))
    assert anonymous.status == 303 and anonymous.location.startswith("/ui/login")


def test_another_labs_member_cannot_edit_a_narrative_or_add_a_note(web, colony_lab):
    eid = _session(colony_lab)
    web.login("bob")
    page = web.get(f"/ui/sessions/{eid}")
    assert page.status == 200 and "<textarea" not in page.text  # read only
    answer = web.post(f"/ui/sessions/{eid}", {"narrative": "vandal"}, csrf=page.csrf())
    assert answer.status == 403 and "not a member of lab 'cortexlab'" in answer
    answer = web.post(
        "/ui/notes/add",
        {"content_type": "session", "object_id": eid, "text": "x", "next": f"/sessions/{eid}"},
        csrf=page.csrf(),
    )
    assert "note_error=" in answer.location
    assert colony_lab.get(f"/notes?object_id={eid}").json_body["count"] == 0
    assert colony_lab.get(f"/sessions/{eid}").json_body["narrative"] == ""


def test_the_training_week_highlights_a_mouse_that_trained_fewer_than_five_days(web, colony_lab):
    monday = datetime.date(2026, 11, 16)
    for offset in range(4):  # Monday to Thursday
        _session(colony_lab, "A", (monday + datetime.timedelta(days=offset)).isoformat())
    for offset in range(5):
        _session(colony_lab, "B", (monday + datetime.timedelta(days=offset)).isoformat())
    page = web.login("alice").get("/ui/training-week/2026-11-19")
    rows = dict(re.findall(r'<tr data-subject="(\w)"( class="highlight")?', page.text))
    assert rows == {"A": ' class="highlight"', "B": ""}
    a_row = re.search(r'<tr data-subject="A".*?</tr>', page.text, re.S).group(0)
    assert a_row.count('aria-label="trained"') == 4 and "<strong>4</strong>" in a_row


def test_an_errored_task_shows_its_log_tail_and_can_be_restarted(web, colony_lab):
    from chalicelib.models import Task

    eid = _session(colony_lab)
    task = Task(
        name="EphysCompress", session=eid, lab="cortexlab", status="Errored", log="line 1\nTraceback: boom"
    )
    task.save()
    page = web.login("alice").get("/ui/tasks")
    assert "Traceback: boom" in page and "EphysCompress" in page
    answer = web.post(f"/ui/tasks/{task.id}/restart", {}, csrf=page.csrf())
    assert answer.status == 303
    assert colony_lab.get(f"/tasks/{task.id}").json_body["status"] == "Waiting"
    assert web.login("bob").post(f"/ui/tasks/{task.id}/restart", {}, csrf=web.get("/ui").csrf()).status == 403


def test_a_surgery_with_an_implant_is_added_through_the_form(web, colony_lab):
    web.login("alice")
    answer = web.post(
        "/ui/surgeries",
        {
            "subject": "D",
            "start_time": _today(7)[:16],
            "implant_weight": "1.5",
            "outcome_type": "Recovery",
            "narrative": "headplate",
        },
    )
    assert answer.status == 303
    saved = colony_lab.get("/surgeries?subject=D").json_body["results"]
    assert [(s["implant_weight"], s["users"]) for s in saved] == [(1.5, ["alice"])]
    assert "headplate" in web.get("/ui/surgeries")


def test_the_subjects_list_of_a_lab_of_1000_mice_costs_a_fixed_number_of_requests(web, api, dynamodb_calls):
    """colony-web.md: pages cost what they show, not a request per row. The count with 10 mice and
    with 1,000 mice is the same."""
    from chalicelib.models import Subject, WaterRestriction, Weighing

    def seed(start: int, stop: int) -> None:
        with (
            Subject.batch_write() as subjects,
            WaterRestriction.batch_write() as restrictions,
            Weighing.batch_write() as weighings,
        ):
            for number in range(start, stop):
                subject = Subject(nickname=f"M{number:04d}", lab="cortexlab", responsible_user="alice")
                subjects.save(subject)
                if number % 10 == 0:
                    common = {"subject": subject.nickname, "subject_id": subject.id, "lab": "cortexlab"}
                    restrictions.save(WaterRestriction(start_time=_ago(5), reference_weight=20.0, **common))
                    weighings.save(Weighing(date_time=_today(), weight=17.0, **common))

    def cost() -> int:
        dynamodb_calls.clear()
        page = web.get("/ui/subjects", responsible_user="all")
        assert page.status == 200
        return sum(dynamodb_calls.values())

    seed(0, 10)
    web.login("alice")
    few = cost()
    seed(10, 1000)
    many = cost()
    assert many == few <= 12, dict(dynamodb_calls)
    assert "1000 subjects" in web.get("/ui/subjects", responsible_user="all")
