"""The API fuzzed from its own schema: no request answers 5xx, every answer is what the schema declares.

Schemathesis generates requests for every operation of ``GET /api/schema`` (valid ones, and invalid ones:
nulls, wrong types, out-of-range numbers, missing fields), sent through the Chalice app as a superuser, a
lab member and an anonymous caller. Path keys are half the time those of real records, so updates and
deletes reach records rather than 404s. Examples per operation are bounded (``FUZZ_EXAMPLES``, default
8) so CI stays fast; raise it to search harder.
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.generation import GenerationMode
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import app
from chalicelib.handlers.schema import openapi
from chalicelib.web.pages import is_page

BASE = "http://localhost"
SCHEMA = schemathesis.openapi.from_dict(openapi(app.routes, BASE))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
ROLES = ("admin", "alice", None)  # superuser, member of cortexlab, anonymous
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def world(module_api):
    """One record of every resource (cortexlab's where records have a lab); ``fuzzed`` is an account
    the fuzzer may delete without losing a role. Returns the path parameter values that name them."""
    a = module_api.post
    from chalicelib.accounts import create_user

    create_user("fuzzed", "fuzzed-pw", labs=["cortexlab"])
    a("/projects", {"name": "brainwide"})
    a("/water-type", {"name": "Hydrogel"})
    a("/procedures", {"name": "Headplate implant"})
    a("/revisions", {"name": "2024-01-01"})
    a("/tags", {"name": "release-1"})
    a("/data-formats", {"name": "hdf5", "file_extension": ".h5"})
    a("/dataset-types", {"name": "widefield.frames", "filename_pattern": ""})
    subject = a("/subjects", {"nickname": "KS023", "lab": "cortexlab"}).json_body
    session = a("/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}).json_body
    (dataset,) = a(
        "/register-file",
        {
            "path": "cortexlab/Subjects/KS023/2024-01-31/001",
            "filenames": ["alf/spikes.times.npy"],
            "hashes": ["0" * 32],
            "filesizes": [8],
        },
    ).json_body
    intent = a(
        "/uploads",
        {"session": session["id"], "files": [{"path": "alf/spikes.amps.npy", "size": 8, "md5": "1" * 32}]},
    ).json_body
    keys = {
        "labs": "cortexlab",
        "users": "fuzzed",
        "projects": "brainwide",
        "subjects": "KS023",
        "sessions": session["id"],
        "water-type": "Hydrogel",
        "procedures": "Headplate implant",
        "data-repository": "cortexlab_server",
        "dataset-types": "widefield.frames",
        "data-formats": "hdf5",
        "revisions": "2024-01-01",
        "tags": "release-1",
        "datasets": dataset["id"],
        "files": dataset["file_records"][0]["id"],
        "insertions": a("/insertions", {"name": "probe00", "session": session["id"]}).json_body["id"],
        "tasks": a("/tasks", {"name": "Compress", "session": session["id"]}).json_body["id"],
        "weighings": a("/weighings", {"subject": "KS023", "weight": 24.5}).json_body["id"],
        "water-administrations": a(
            "/water-administrations", {"subject": "KS023", "water_administered": 1.2}
        ).json_body["id"],
        "water-restrictions": a(
            "/water-restrictions", {"subject": "KS023", "start_time": "2024-01-01T09:00:00"}
        ).json_body["id"],
        "surgeries": a("/surgeries", {"subject": "KS023", "start_time": "2023-12-01T09:00:00"}).json_body[
            "id"
        ],
        "notes": a(
            "/notes", {"text": "fine", "content_type": "subject", "object_id": subject["id"]}
        ).json_body["id"],
    }
    keys.update(_colony(a), **_histology(a, keys["insertions"], session["id"], subject["id"]))
    keys["notification-rules"] = a(
        "/notification-rules", {"kind": "mouse_underweight", "scope": "mine"}
    ).json_body["id"]
    parameters = {
        "region_id": "382",
        "nickname": "KS023",
        "upload_id": intent["id"],
        "lab": "cortexlab",
        "subject": "KS023",
        "date": "2024-01-31",
        "number": "001",
        "folder0": "alf",
        "filename": "spikes.times.npy",
    }
    return keys, parameters


def _made(post, path: str, body: dict) -> dict:
    answer = post(path, body)
    assert answer.status_code == 201, (path, answer.json_body)
    return answer.json_body


def _colony(post) -> dict[str, str]:
    """A line, its vocabulary, a breeding pair, a litter, a request, tests, a rule, a cull, a housing."""
    names = {
        "species": {"name": "Laboratory mouse"},
        "strains": {"name": "C57BL/6J"},
        "sources": {"name": "Jax"},
        "sequences": {"name": "Ai95-wt"},
        "alleles": {"name": "Ai95", "sequences": ["Ai95-wt"]},
        "lines": {"name": "Ai95-line", "lab": "cortexlab", "alleles": ["Ai95"]},
        "cull-reasons": {"name": "underweight"},
        "cull-methods": {"name": "CO2"},
        "cage-types": {"name": "IVC"},
        "enrichments": {"name": "tube"},
        "foods": {"name": "chow"},
        "locations": {"name": "room-1", "lab": "cortexlab"},
    }
    keys = {name: _made(post, f"/{name}", body)["name"] for name, body in names.items()}
    for nickname, sex in (("dad", "M"), ("mum", "F"), ("old", "M")):
        _made(post, "/subjects", {"nickname": nickname, "lab": "cortexlab", "sex": sex, "line": "Ai95-line"})
    pair = {"name": "BP-1", "line": "Ai95-line", "father": "dad", "mother1": "mum"}
    keys["breeding-pairs"] = _made(post, "/breeding-pairs", pair)["name"]
    keys["litters"] = _made(post, "/litters", {"name": "L-1", "breeding_pair": "BP-1"})["name"]
    keys["subject-requests"] = _made(post, "/subject-requests", {"line": "Ai95-line", "count": 2})["id"]
    rule = {
        "line": "Ai95-line",
        "allele": "Ai95",
        "sequence0": "Ai95-wt",
        "sequence0_result": 1,
        "zygosity": 2,
    }
    keys["zygosity-rules"] = _made(post, "/zygosity-rules", rule)["id"]
    test = {"subject": "mum", "sequence": "Ai95-wt", "test_result": 1}
    keys["genotype-tests"] = _made(post, "/genotype-tests", test)["id"]
    keys["culls"] = _made(post, "/culls", {"subject": "old", "cull_reason": "underweight"})["id"]
    keys["housings"] = _made(
        post, "/housings", {"lab": "cortexlab", "cage_name": "H-1", "subjects": ["dad"]}
    )["id"]
    return keys


def _histology(post, insertion: str, session: str, subject: str) -> dict[str, str]:
    """A trajectory of the seeded insertion and a channel on it, a chronic insertion, a field of view."""
    trajectory = _made(
        post, "/trajectories", {"probe_insertion": insertion, "x": 1.0, "provenance": "Planned"}
    )
    return {
        "trajectories": trajectory["id"],
        "channels": _made(post, "/channels", {"trajectory_estimate": trajectory["id"], "axial": 20})["id"],
        "chronic-insertions": _made(post, "/chronic-insertions", {"name": "NP1", "subject": subject})["id"],
        "fields-of-view": _made(post, "/fields-of-view", {"name": "FOV_00", "session": session})["id"],
    }


def _real_keys(operation, world) -> dict[str, str]:
    """The path parameters of ``operation`` that name a seeded record."""
    keys, parameters = world
    resource = operation.path.strip("/").split("/")[0]
    known = {**parameters, "key": keys.get(resource, "")}
    return {p.name: known[p.name] for p in operation.path_parameters if known.get(p.name)}


def _send(client, case, role: str | None) -> schemathesis.Response:
    """Send ``case`` through the Chalice app, as schemathesis would over HTTP."""
    headers = {"Authorization": f"Token {client.tokens[role]}"} if role else {}
    kwargs = case.as_transport_kwargs(base_url=BASE, headers=headers)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
    ).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    answer = client.client.http.request(
        prepared.method, prepared.path_url, headers=dict(prepared.headers), body=body or b""
    )
    return schemathesis.Response(
        status_code=answer.status_code,
        headers={name: [value] for name, value in answer.headers.items()},
        content=answer.body or b"",
        request=prepared,
        elapsed=0.0,
        verify=False,
        encoding="utf-8",
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_request_answers_5xx_and_every_answer_is_declared(module_api, world, operation):
    real = _real_keys(operation, world)
    modes = st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE])

    @given(
        case=modes.flatmap(lambda mode: operation.as_strategy(generation_mode=mode)),
        role=st.sampled_from(ROLES),
        use_real=st.booleans(),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case, role, use_real):
        if use_real and real:
            case.path_parameters = {**(case.path_parameters or {}), **real}
        response = _send(module_api, case, role)
        case.validate_response(response, checks=CHECKS)

    check()


def test_the_fuzzer_sees_every_route():
    labels = {operation.label for operation in OPERATIONS}
    for path, methods in app.routes.items():
        if is_page(path):  # the HTML pages under /ui are not part of the API
            continue
        for method in methods:
            assert f"{method} {path}" in labels


def test_the_fuzzer_fails_on_a_server_error(module_api, monkeypatch):
    """The checks are live: an operation that crashes is reported, not passed."""
    from chalicelib.handlers import edge

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(edge, "base_url", crash)
    operation = next(o for o in OPERATIONS if o.label == "GET /labs/{key}")
    case = operation.Case(path_parameters={"key": "cortexlab"})
    response = _send(module_api, case, "admin")
    assert response.status_code == 500
    with pytest.raises(FailureGroup) as caught:
        case.validate_response(response, checks=CHECKS)
    assert {type(failure) for failure in caught.value.exceptions} >= {ServerError, UndefinedStatusCode}
