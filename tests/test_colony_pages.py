"""The colony's web pages in process: lines, breeding pairs, litters and pups, requests, culls, housing,
a subject's genotype, every record's history, and the user's notifications on the home page."""

from __future__ import annotations

import datetime
import re

import pytest

from chalicelib.models import Notification


@pytest.fixture
def colony(api, web):
    """A line of cortexlab with an allele, two parents and a current breeding pair; an inactive line."""
    for name, body in (
        ("strains", {"name": "C57BL/6J"}),
        ("cull-reasons", {"name": "experiment ended"}),
        ("sequences", {"name": "Ai95-mut"}),
        ("alleles", {"name": "Ai95", "sequences": ["Ai95-mut"]}),
        ("lines", {"name": "Ai95-line", "lab": "cortexlab", "alleles": ["Ai95"], "strain": "C57BL/6J"}),
        ("lines", {"name": "Old-line", "lab": "cortexlab", "is_active": False}),
    ):
        assert api.post(f"/{name}", body).status_code == 201, name
    for nickname, sex in (("dad", "M"), ("mum", "F")):
        body = {
            "nickname": nickname,
            "lab": "cortexlab",
            "sex": sex,
            "line": "Ai95-line",
            "strain": "C57BL/6J",
        }
        assert api.post("/subjects", {**body, "responsible_user": "alice"}, user="alice").status_code == 201
    pair = {
        "name": "BP-1",
        "line": "Ai95-line",
        "father": "dad",
        "mother1": "mum",
        "start_date": "2024-01-01",
    }
    assert api.post("/breeding-pairs", pair, user="alice").status_code == 201
    ended = {**pair, "name": "BP-0", "start_date": "2023-01-01", "end_date": "2023-06-01"}
    assert api.post("/breeding-pairs", ended, user="alice").status_code == 201
    return web.login("alice")


def test_a_colony_manager_finds_every_colony_list_from_the_navigation(colony):
    home = colony.get("/ui")
    assert 'href="/ui/colony"' in home.text
    hub = colony.get("/ui/colony")
    for path in ("/ui/lines", "/ui/breeding-pairs", "/ui/litters", "/ui/subject-requests", "/ui/culls"):
        assert f'href="{path}"' in hub.text, path
    assert 'href="/ui/housings"' in hub.text
    assert re.search(r"Lines\s+1 active", hub.plain) and re.search(r"Breeding pairs\s+1 current", hub.plain)


def test_lines_show_active_ones_by_default_and_inactive_ones_on_asking(colony):
    active = colony.get("/ui/lines")
    assert "Ai95-line" in active and "Old-line" not in active
    inactive = colony.get("/ui/lines", is_active="false")
    assert "Old-line" in inactive and "Ai95-line" not in inactive
    line = colony.get("/ui/colony/lines/Ai95-line")
    assert "C57BL/6J" in line and "Ai95" in line and 'href="/ui/history/lines/Ai95-line"' in line.text


def test_breeding_pairs_are_current_or_past(colony):
    current = colony.get("/ui/breeding-pairs")
    assert "BP-1" in current and "BP-0" not in current
    past = colony.get("/ui/breeding-pairs", status="past")
    assert "BP-0" in past and "BP-1" not in past


def test_a_litter_made_on_its_page_creates_its_pups_inheriting_from_it(colony, api):
    answer = colony.post(
        "/ui/litters",
        {"name": "L-1", "breeding_pair": "BP-1", "birth_date": "2024-03-01", "pups": "pup1, pup2"},
    )
    assert answer.status == 303, answer.plain
    litters = colony.get("/ui/litters")
    assert "L-1" in litters and "pup1, pup2" in litters
    pup = api.get("/subjects/pup1").json_body
    assert (pup["birth_date"], pup["line"], pup["litter"], pup["strain"]) == (
        "2024-03-01",
        "Ai95-line",
        "L-1",
        "C57BL/6J",
    )
    more = colony.post("/ui/litters/L-1", {"pups": "pup3", "sex": "F"})
    assert more.status == 303, more.plain
    page = colony.get("/ui/litters/L-1")
    assert all(name in page for name in ("pup1", "pup2", "pup3", "Ai95-line", "BP-1"))
    assert api.get("/subjects/pup3").json_body["sex"] == "F"


def test_a_taken_pup_nickname_gives_the_litter_page_back_with_the_error_and_makes_no_pup(colony, api):
    assert (
        colony.post(
            "/ui/litters", {"name": "L-2", "breeding_pair": "BP-1", "birth_date": "2024-03-01"}
        ).status
        == 303
    )
    answer = colony.post("/ui/litters/L-2", {"pups": "fresh, mum"})
    assert answer.status == 409 and "mum" in answer
    assert api.get("/subjects/fresh").status_code == 404


def test_a_bad_add_form_gives_the_error_next_to_its_field_and_writes_nothing(colony, api):
    answer = colony.post("/ui/breeding-pairs", {"name": "BP-2", "line": "Ai95-line", "father": "nobody"})
    assert answer.status == 400 and "nobody" in answer and 'aria-invalid="true"' in answer.text
    assert api.get("/breeding-pairs/BP-2").status_code == 404


def test_a_subject_request_counts_what_is_asked_and_still_needed(colony):
    answer = colony.post(
        "/ui/subject-requests", {"line": "Ai95-line", "count": "3", "due_date": "2025-01-01"}
    )
    assert answer.status == 303, answer.plain
    listed = colony.get("/ui/subject-requests")
    assert "Ai95-line" in listed and "alice" in listed and "2025-01-01" in listed


def test_culling_from_the_subject_page_sets_the_death_date_and_ends_open_restrictions(colony, api):
    restriction = {"subject": "mum", "start_time": "2024-05-01T09:00", "reference_weight": 20}
    assert api.post("/water-restrictions", restriction, user="alice").status_code == 201
    page = colony.get("/ui/subjects/mum")
    assert 'id="cull-form"' in page.text
    answer = colony.post(
        "/ui/subjects/mum/cull",
        {"date": "2024-06-01", "cull_reason": "experiment ended", "cull_method": ""},
        csrf=page.csrf(),
    )
    assert answer.status == 303, answer.plain
    assert api.get("/subjects/mum").json_body["death_date"] == "2024-06-01"
    [ended] = api.get("/water-restrictions?subject=mum").json_body["results"]
    assert ended["end_time"] and ended["end_time"][:10] == "2024-06-01"
    after = colony.get("/ui/subjects/mum")
    assert "Culled on 2024-06-01" in after and 'id="cull-form"' not in after.text
    assert "mum" in colony.get("/ui/culls")


def test_a_member_of_another_lab_cannot_cull_the_mouse(colony, web, api):
    token = colony.get("/ui/subjects/dad").csrf()
    web.login("bob")
    page = web.get("/ui/subjects/dad")
    assert 'id="cull-form"' not in page.text
    answer = web.post("/ui/subjects/dad/cull", {"date": "2024-06-01"}, csrf=page.csrf() or token)
    assert answer.status == 403
    assert api.get("/subjects/dad").json_body["death_date"] is None


def test_the_subject_page_shows_genotype_tests_and_zygosities(colony, api):
    rule = {
        "line": "Ai95-line",
        "allele": "Ai95",
        "sequence0": "Ai95-mut",
        "sequence0_result": 1,
        "zygosity": 3,
    }
    assert api.post("/zygosity-rules", rule, user="alice").status_code == 201
    test = {"subject": "dad", "sequence": "Ai95-mut", "test_result": 1}
    assert api.post("/genotype-tests", test, user="alice").status_code == 201
    page = colony.get("/ui/subjects/dad")
    assert (
        "Ai95-mut" in page
        and "Present" in page
        and "Ai95" in page
        and "+" in page.plain.split("Zygosities")[1]
    )


def test_housing_made_on_its_page_moves_the_cage_mates_in(colony, api):
    answer = colony.post("/ui/housings", {"cage_name": "C-7", "subjects": "dad, mum"})
    assert answer.status == 303, answer.plain
    assert api.get("/subjects/dad").json_body["cage"] == "C-7"
    listed = colony.get("/ui/housings")
    assert "C-7" in listed and "dad, mum" in listed


def test_a_records_history_page_says_who_changed_which_field_from_what_to_what(colony, api):
    assert api.patch("/subjects/dad", {"description": "breeder"}, user="alice").status_code == 200
    page = colony.get("/ui/subjects/dad")
    assert 'href="/ui/history/subjects/dad?lab=cortexlab"' in page.text
    trail = colony.get("/ui/history/subjects/dad", lab="cortexlab")
    assert trail.status == 200
    assert "alice" in trail and "update" in trail and "description: ∅ → breeder" in trail.plain
    pair = colony.get("/ui/history/breeding-pairs/BP-1")
    assert "create" in pair and "father" in pair


def test_the_home_page_lists_the_users_own_notifications_only(colony):
    now = datetime.datetime.now().isoformat(timespec="seconds")
    Notification(
        user="alice",
        kind="mouse_water",
        title="Give water to mum",
        subject="mum",
        lab="cortexlab",
        date_time=now,
    ).save()
    Notification(user="bob", kind="mouse_water", title="Give water to bobs mouse", date_time=now).save()
    home = colony.get("/ui")
    assert "Give water to mum" in home and "bobs mouse" not in home


def test_genotype_results_typed_on_the_litter_page_derive_the_pups_zygosity(colony, api):
    rule = {
        "line": "Ai95-line",
        "allele": "Ai95",
        "sequence0": "Ai95-mut",
        "sequence0_result": 1,
        "zygosity": 3,
    }
    assert api.post("/zygosity-rules", rule, user="alice").status_code == 201
    litter = {"name": "L-3", "breeding_pair": "BP-1", "birth_date": "2024-03-01", "pups": "g1, g2"}
    assert colony.post("/ui/litters", litter).status == 303
    page = colony.get("/ui/litters/L-3")
    assert "Ai95-mut" in page  # a result column for the line's sequence
    answer = colony.post(
        "/ui/litters/L-3", {"action": "genotype", "result:g1:Ai95-mut": "1", "result:g2:Ai95-mut": ""}
    )
    assert answer.status == 303, answer.plain
    assert [z["symbol"] for z in api.get("/zygosities?subject=g1").json_body["results"]] == ["+"]
    assert api.get("/genotype-tests?subject=g2").json_body["count"] == 0
    assert "Ai95 +" in colony.get("/ui/litters/L-3")
    colony.post("/ui/litters/L-3", {"action": "genotype", "result:g1:Ai95-mut": ""})
    assert api.get("/genotype-tests?subject=g1").json_body["count"] == 0  # a blank result removes the test


def test_genotype_tests_and_zygosities_have_their_lists_and_forms(colony, api):
    answer = colony.post("/ui/genotype-tests", {"subject": "dad", "sequence": "Ai95-mut", "test_result": "0"})
    assert answer.status == 303, answer.plain
    listed = colony.get("/ui/genotype-tests")
    assert "dad" in listed and "Absent" in listed
    answer = colony.post("/ui/zygosities", {"subject": "mum", "allele": "Ai95", "zygosity": "1"})
    assert answer.status == 303, answer.plain
    assert "+/-" in colony.get("/ui/zygosities")


def test_a_line_is_deactivated_from_the_list(colony, api):
    assert (
        colony.post(
            "/ui/lines/Ai95-line/active", {"is_active": "false"}, csrf=colony.get("/ui/lines").csrf()
        ).status
        == 303
    )
    assert api.get("/lines/Ai95-line").json_body["is_active"] is False
    assert "Ai95-line" in colony.get("/ui/lines", is_active="false")


def test_the_adverse_effects_view_lists_subjects_with_effects_and_how_they_ended(colony, api):
    assert (
        api.patch(
            "/subjects/dad", {"adverse_effects": "weight loss", "actual_severity": 3}, user="alice"
        ).status_code
        == 200
    )
    page = colony.get("/ui/adverse-effects")
    assert "dad" in page and "weight loss" in page and "mum" not in page
    assert "weight loss" in colony.login("admin").get("/ui/adverse-effects")  # every lab's, for a superuser


def test_colony_fields_edited_on_the_subject_page_and_a_stale_edit_is_refused_with_what_changed(colony, api):
    page = colony.get("/ui/subjects/dad")
    form = {"ear_mark": "L1", "cage": "C-1", "actual_severity": "2", "to_be_genotyped": "on"}
    version = page.text.split('name="version" value="')[1].split('"')[0]
    saved = colony.post(
        "/ui/subjects/dad/colony?lab=cortexlab", {**form, "version": version}, csrf=page.csrf()
    )
    assert saved.status == 303, saved.plain
    dad = api.get("/subjects/dad").json_body
    assert (dad["ear_mark"], dad["cage"], dad["actual_severity"], dad["to_be_genotyped"]) == (
        "L1",
        "C-1",
        2,
        True,
    )
    assert api.patch("/subjects/dad", {"cage": "C-2"}, user="alice").status_code == 200  # someone else
    stale = colony.post(
        "/ui/subjects/dad/colony?lab=cortexlab", {**form, "version": version}, csrf=page.csrf()
    )
    assert stale.status == 409 and "changed since version" in stale and "'C-1' -> 'C-2'" in stale
    assert api.get("/subjects/dad").json_body["cage"] == "C-2"  # nothing overwritten


def test_a_user_chooses_which_mice_they_hear_about_on_the_notifications_page(colony, api):
    answer = colony.post("/ui/notifications", {"scope:mouse_water": "lab", "scope:mouse_not_weighed": "none"})
    assert answer.status == 303, answer.plain
    rules = api.get("/notification-rules?user=alice", user="alice").json_body["results"]
    assert sorted((r["kind"], r["scope"]) for r in rules) == [
        ("mouse_not_weighed", "none"),
        ("mouse_water", "lab"),
    ]
    colony.post("/ui/notifications", {"scope:mouse_water": "all"})  # the others back to the default
    rules = api.get("/notification-rules?user=alice", user="alice").json_body["results"]
    assert [(r["kind"], r["scope"]) for r in rules] == [("mouse_water", "all")]
    assert 'href="/ui/notifications"' in colony.get("/ui").text


def test_a_sessions_page_links_to_its_history(colony, api):
    body = {"subject": "dad", "lab": "cortexlab", "start_time": "2024-06-02T10:00:00", "number": 1}
    session = api.post("/sessions", body, user="alice").json_body["id"]
    assert api.patch(f"/sessions/{session}", {"narrative": "licks well"}, user="alice").status_code == 200
    assert f'href="/ui/history/sessions/{session}"' in colony.get(f"/ui/sessions/{session}").text
    trail = colony.get(f"/ui/history/sessions/{session}")
    assert "narrative: ∅ → licks well" in trail.plain and f'href="/ui/sessions/{session}"' in trail.text
