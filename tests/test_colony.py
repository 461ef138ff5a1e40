"""The colony: genetics, breeding, litters and pups, requests, culls, housing, as REST resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.colony.genetics import zygosity_from_rules
from chalicelib.models import ZygosityRule

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "alyx"


@pytest.fixture
def colony(api):
    """A line with an allele tested by two sequences, and a breeding pair of it."""
    for name, body in (
        ("strains", {"name": "C57BL/6J"}),
        ("sources", {"name": "Jax"}),
        ("sequences", {"name": "Ai95-wt"}),
        ("sequences", {"name": "Ai95-mut"}),
        ("alleles", {"name": "Ai95", "sequences": ["Ai95-wt", "Ai95-mut"]}),
        ("lines", {"name": "Ai95-line", "lab": "cortexlab", "alleles": ["Ai95"], "strain": "C57BL/6J"}),
    ):
        assert api.post(f"/{name}", body).status_code == 201, (name, api.post(f"/{name}", body).json_body)
    for nickname, sex in (("dad", "M"), ("mum", "F")):
        body = {"nickname": nickname, "lab": "cortexlab", "sex": sex, "line": "Ai95-line"}
        body.update(strain="C57BL/6J", source="Jax", responsible_user="alice")
        assert api.post("/subjects", body, user="alice").status_code == 201
    pair = {
        "name": "BP-1",
        "line": "Ai95-line",
        "father": "dad",
        "mother1": "mum",
        "start_date": "2024-01-01",
    }
    assert api.post("/breeding-pairs", pair, user="alice").status_code == 201
    return api


def _rule(allele="Ai95", s0=None, r0=None, s1=None, r1=None, zygosity=0):
    return ZygosityRule(
        line="L",
        allele=allele,
        sequence0=s0,
        sequence0_result=r0,
        sequence1=s1,
        sequence1_result=r1,
        zygosity=zygosity,
        lab="x",
    )


def test_the_first_matching_rule_gives_the_zygosity_as_alyx_derives_it():
    rules = [
        _rule(s0="wt", r0=1, s1="mut", r1=0, zygosity=0),
        _rule(s0="wt", r0=1, s1="mut", r1=1, zygosity=1),
        _rule(s0="wt", r0=0, s1="mut", r1=1, zygosity=2),
    ]
    assert zygosity_from_rules(rules, {"wt": 1, "mut": 1}) == 1
    assert zygosity_from_rules(rules, {"wt": 0, "mut": 1}) == 2
    assert zygosity_from_rules(rules, {}) is None
    assert zygosity_from_rules([_rule(s0="mut", r0=1, zygosity=3)], {"mut": 1}) == 3
    # as in Alyx, a rule matches on its first sequence alone while the second is untested
    assert zygosity_from_rules(rules, {"wt": 0}) == 2
    assert zygosity_from_rules(rules, {"mut": 1}) is None


def test_a_genotype_test_derives_the_zygosity_from_the_lines_rules(colony):
    api = colony
    for r0, r1, zygosity in ((1, 0, 0), (1, 1, 1), (0, 1, 2)):
        rule = {"line": "Ai95-line", "allele": "Ai95", "zygosity": zygosity}
        rule.update(sequence0="Ai95-wt", sequence0_result=r0, sequence1="Ai95-mut", sequence1_result=r1)
        assert api.post("/zygosity-rules", rule, user="alice").status_code == 201
    api.post("/genotype-tests", {"subject": "mum", "sequence": "Ai95-wt", "test_result": 1}, user="alice")
    api.post("/genotype-tests", {"subject": "mum", "sequence": "Ai95-mut", "test_result": 1}, user="alice")
    found = api.get("/zygosities?subject=mum").json_body["results"]
    assert [(z["allele"], z["zygosity"], z["symbol"]) for z in found] == [("Ai95", 1, "+/-")]
    test = api.get("/genotype-tests?subject=mum&sequence=Ai95-wt").json_body["results"][0]
    api.patch(f"/genotype-tests/{test['id']}", {"test_result": 0}, user="alice")
    assert api.get("/zygosities?subject=mum").json_body["results"][0]["symbol"] == "+/+"


def test_pups_named_on_a_litter_are_born_from_it(colony):
    api = colony
    litter = {
        "name": "L-1",
        "breeding_pair": "BP-1",
        "birth_date": "2024-03-01",
        "pups": ["pup1", {"nickname": "pup2", "sex": "F", "ear_mark": "L"}],
    }
    created = api.post("/litters", litter, user="alice")
    assert created.status_code == 201, created.json_body
    assert created.json_body["line"] == "Ai95-line" and created.json_body["pups"] == ["pup1", "pup2"]
    pup = api.get("/subjects/pup2").json_body
    assert (pup["birth_date"], pup["line"], pup["litter"], pup["sex"], pup["ear_mark"]) == (
        "2024-03-01",
        "Ai95-line",
        "L-1",
        "F",
        "L",
    )
    assert (pup["strain"], pup["source"], pup["responsible_user"], pup["lab"]) == (
        "C57BL/6J",
        "Jax",
        "alice",
        "cortexlab",
    )
    again = api.patch("/litters/L-1", {"pups": ["pup1", "pup2", "pup3"]}, user="alice")
    assert again.json_body["pups"] == ["pup1", "pup2", "pup3"]
    assert api.get("/subjects?litter=L-1").json_body["count"] == 3


def test_a_pup_with_a_taken_nickname_refuses_the_pups_before_any_is_made(colony):
    api = colony
    api.post("/litters", {"name": "L-2", "breeding_pair": "BP-1"}, user="alice")
    refused = api.patch("/litters/L-2", {"pups": ["fresh", "dad"]}, user="alice")
    assert refused.status_code == 409 and "dad" in refused.json_body["detail"]
    assert api.get("/subjects?nickname=fresh").json_body["count"] == 0
    bad = api.post("/litters", {"name": "L-3", "pups": [{"nickname": "x", "colour": "red"}]}, user="alice")
    assert bad.status_code == 400 and "colour" in bad.json_body["detail"]


def test_a_cull_kills_the_subject_and_ends_its_open_restrictions(colony):
    api = colony
    api.post("/water-restrictions", {"subject": "dad", "start_time": "2024-02-01T09:00:00"}, user="alice")
    api.patch("/subjects/dad", {"to_be_culled": True}, user="alice")
    cull = {"subject": "dad", "date": "2024-04-02", "cull_reason": "underweight", "cull_method": "CO2"}
    for name, vocabulary in (("cull-reasons", "underweight"), ("cull-methods", "CO2")):
        api.post(f"/{name}", {"name": vocabulary})
    assert api.post("/culls", cull, user="alice").status_code == 201
    dad = api.get("/subjects/dad").json_body
    assert (dad["death_date"], dad["alive"], dad["to_be_culled"]) == ("2024-04-02", False, False)
    restriction = api.get("/water-restrictions?subject=dad").json_body["results"][0]
    assert restriction["end_time"] == "2024-04-02T00:00:00"
    assert api.post("/culls", cull, user="alice").status_code == 409  # one cull per subject


def test_a_subject_keeps_the_history_of_its_cage_and_responsible_user(colony):
    api = colony
    api.patch("/subjects/mum", {"cage": "C-12"}, user="alice")
    api.patch("/subjects/mum", {"cage": "C-13", "responsible_user": "admin"}, user="alice")
    history = api.get("/subjects/mum").json_body["json"]["history"]
    assert [entry["value"] for entry in history["cage"]] == ["None", "C-12"]
    assert [entry["value"] for entry in history["responsible_user"]] == ["alice"]
    api.patch("/subjects/mum", {"to_be_genotyped": True}, user="alice")
    api.patch("/subjects/mum", {"genotype_date": "2024-05-01"}, user="alice")
    assert api.get("/subjects/mum").json_body["to_be_genotyped"] is False


def test_a_breeding_pairs_cage_houses_its_parents_and_status_filters_pairs(colony):
    api = colony
    api.patch("/breeding-pairs/BP-1", {"cage": "B-7"}, user="alice")
    assert {api.get(f"/subjects/{n}").json_body["cage"] for n in ("dad", "mum")} == {"B-7"}
    api.post(
        "/breeding-pairs",
        {"name": "BP-old", "line": "Ai95-line", "start_date": "2023-01-01", "end_date": "2023-06-01"},
        user="alice",
    )
    assert [p["name"] for p in api.get("/breeding-pairs?status=current").json_body["results"]] == ["BP-1"]
    assert [p["name"] for p in api.get("/breeding-pairs?status=past").json_body["results"]] == ["BP-old"]
    missing = api.post(
        "/breeding-pairs", {"name": "BP-x", "line": "Ai95-line", "father": "ghost"}, user="alice"
    )
    assert missing.status_code == 400 and "ghost" in missing.json_body["detail"]


def test_a_subject_request_counts_the_subjects_assigned_to_it(colony):
    api = colony
    request = api.post("/subject-requests", {"line": "Ai95-line", "count": 3}, user="alice").json_body
    assert (request["user"], request["lab"], request["remaining"], request["closed"]) == (
        "alice",
        "cortexlab",
        3,
        False,
    )
    api.patch("/subjects/mum", {"request": request["id"]}, user="alice")
    assert api.get(f"/subject-requests/{request['id']}").json_body["count_assigned"] == 1


def test_a_housing_takes_the_labs_default_light_cycle_and_food_and_moves_its_residents(colony):
    api = colony
    api.post("/foods", {"name": "Envigo 2918", "protein_pct": 18})
    assert api.patch("/labs/cortexlab", {"light_cycle": 1, "food": "Envigo 2918"}).status_code == 200
    housing = api.post(
        "/housings", {"lab": "cortexlab", "cage_name": "H-1", "subjects": ["mum", "dad"]}, user="alice"
    ).json_body
    assert (housing["light_cycle"], housing["food"]) == (1, "Envigo 2918")
    assert api.get("/subjects/dad").json_body["cage"] == "H-1"
    api.patch(f"/housings/{housing['id']}", {"food": None}, user="alice")
    trail = api.get(f"/housings/{housing['id']}/history").json_body["results"]
    assert trail[0]["changes"] == {"food": ["Envigo 2918", None]}


def test_a_colony_record_of_another_lab_cannot_be_changed(colony):
    api = colony
    refused = api.patch("/lines/Ai95-line", {"is_active": False}, user="bob")
    assert refused.status_code == 403
    assert api.post("/litters", {"name": "L-b", "line": "Ai95-line"}, user="bob").status_code == 403


def test_the_standard_colony_vocabulary_is_alyxs(cloud):
    from chalicelib.colony.vocabulary import seed_colony_vocabulary
    from chalicelib.models import CullMethod, CullReason, Food

    assert seed_colony_vocabulary() > 0
    assert seed_colony_vocabulary() == 0
    for model, fixture in ((CullReason, "actions.cullreason.json"), (CullMethod, "actions.cullmethod.json")):
        expected = {record["fields"]["name"] for record in json.loads((FIXTURES / fixture).read_text())}
        assert expected <= {item.name for item in model.scan()}
    assert all(food.protein_pct for food in Food.scan())
