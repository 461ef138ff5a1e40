"""One permission check, tested per role over every route of the app (table-driven from the route table).

Superuser: everything. Lab member: reads everything, writes the lab-scoped records of its own labs only.
Public user: reads only. Anonymous: 401 everywhere but the open endpoints.
"""

from __future__ import annotations

import re

import pytest

from app import app
from chalicelib import rest
from chalicelib.web.pages import is_page

OPEN = {("/health", "GET"), ("/auth-token", "POST")} | {
    (path, "GET")
    for path in app.routes
    if path.startswith("/public/")  # released data, for anyone
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def api(module_api):
    """Seeded once: these tests only read, refuse writes, or add records nobody else reads."""
    return module_api


@pytest.fixture(scope="module")
def world(api):
    """One record of every resource, owned by cortexlab where records have a lab."""
    a = api.post
    a("/projects", {"name": "brainwide"})
    a("/water-type", {"name": "Hydrogel"})
    a("/procedures", {"name": "Headplate implant"})
    a("/revisions", {"name": "2024-01-01"})
    a("/tags", {"name": "release-1", "protected": False})
    a("/data-formats", {"name": "hdf5", "file_extension": ".h5"})
    a("/dataset-types", {"name": "widefield.frames", "filename_pattern": ""})
    subject = a("/subjects", {"nickname": "KS023", "lab": "cortexlab"}).json_body
    session = a("/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}).json_body
    registered = a(
        "/register-file",
        {
            "path": "cortexlab/Subjects/KS023/2024-01-31/001",
            "filenames": ["alf/spikes.times.npy"],
            "hashes": ["0" * 32],
            "filesizes": [8],
        },
    ).json_body
    keys = {
        "labs": "cortexlab",
        "users": "alice",
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
        "datasets": registered[0]["id"],
        "files": registered[0]["file_records"][0]["id"],
        "insertions": a("/insertions", {"name": "probe00", "session": session["id"]}).json_body["id"],
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
        "tasks": a("/tasks", {"name": "EphysCompress_probe00", "session": session["id"]}).json_body["id"],
        "data-repository-type": "Fileserver",
        "locations": a("/locations", {"name": "rig-1", "lab": "cortexlab"}).json_body["name"],
        "chronic-insertions": a("/chronic-insertions", {"name": "probe00", "subject": "KS023"}).json_body[
            "id"
        ],
        "fields-of-view": a("/fields-of-view", {"name": "FOV_00", "session": session["id"]}).json_body["id"],
        "downloads": a("/new-download", {"datasets": [registered[0]["id"]]}).json_body["download"][0],
    }
    keys.update(_colony(a))
    keys["water-restriction"] = keys["water-restrictions"]
    keys["trajectories"] = a("/trajectories", {"probe_insertion": keys["insertions"]}).json_body["id"]
    keys["channels"] = a(
        "/channels", {"trajectory_estimate": keys["trajectories"], "axial": 20, "brain_region": 382}
    ).json_body["id"]
    assert all(keys.values()), keys
    return {"keys": keys, "session": session["id"], "subject": subject["id"]}


def _colony(a) -> dict[str, str]:
    """One record of each colony resource (chalicelib/resources/genetics.py and breeding.py)."""
    for name in ("species", "strains", "sources", "sequences", "alleles", "cull-reasons", "cull-methods"):
        a(f"/{name}", {"name": f"a-{name}"})
    for name in ("cage-types", "foods", "enrichments"):
        a(f"/{name}", {"name": f"a-{name}"})
    a("/lines", {"name": "Ai95", "lab": "cortexlab"})
    a("/breeding-pairs", {"name": "BP1", "line": "Ai95"})
    a("/litters", {"name": "L1", "line": "Ai95", "breeding_pair": "BP1"})
    a("/subjects", {"nickname": "KS024", "lab": "cortexlab"})
    by_subject = {"subject": "KS024"}
    return {
        **{name: f"a-{name}" for name in ("species", "strains", "sources", "sequences", "alleles")},
        **{
            name: f"a-{name}"
            for name in ("cull-reasons", "cull-methods", "cage-types", "foods", "enrichments")
        },
        "lines": "Ai95",
        "breeding-pairs": "BP1",
        "litters": "L1",
        "subject-requests": a("/subject-requests", {"line": "Ai95", "count": 2}).json_body["id"],
        "genotype-tests": a(
            "/genotype-tests", {**by_subject, "sequence": "a-sequences", "test_result": 1}
        ).json_body["id"],
        "zygosities": a("/zygosities", {**by_subject, "allele": "a-alleles", "zygosity": 1}).json_body["id"],
        "zygosity-rules": a(
            "/zygosity-rules", {"line": "Ai95", "allele": "a-alleles", "zygosity": 2}
        ).json_body["id"],
        "culls": a("/culls", {**by_subject, "date": "2024-02-01"}).json_body["id"],
        "housings": a("/housings", {"lab": "cortexlab", "cage_name": "C1"}).json_body["id"],
        "notification-rules": a("/notification-rules", {"kind": "mouse_water", "scope": "lab"}).json_body[
            "id"
        ],
        "notifications": _notification(),
    }


def _notification() -> str:
    from chalicelib.notifications import notify

    return notify("mouse_water", "1.0 mL remaining for KS024", None, users=["alice"])[0].id


def test_notifications_are_read_only_and_a_user_keeps_their_own_rules(api, world):
    key = world["keys"]["notifications"]
    assert api.patch(f"/notifications/{key}", {}).status_code == 403
    assert api.post("/notifications", {}).status_code == 403
    own = api.post("/notification-rules", {"kind": "mouse_not_weighed", "scope": "mine"}, user="bob")
    assert own.status_code == 201 and own.json_body["user"] == "bob"
    assert (
        api.patch(f"/notification-rules/{own.json_body['id']}", {"scope": "all"}, user="bob").status_code
        == 200
    )
    assert (
        api.patch(f"/notification-rules/{own.json_body['id']}", {"scope": "none"}, user="alice").status_code
        == 403
    )


def _routes() -> list[tuple[str, str]]:
    """The REST API's routes (the web pages under /ui have their own tests: test_web_pages.py)."""
    return sorted(
        (path, method) for path, methods in app.routes.items() for method in methods if not is_page(path)
    )


def _url(path: str, world: dict) -> str:
    resource = path.strip("/").split("/")[0]
    if "{key}" in path:
        return path.replace("{key}", world["keys"][resource])
    return path.replace("{nickname}", "KS023")


@pytest.mark.parametrize(("path", "method"), [r for r in _routes() if r not in OPEN])
def test_anonymous_callers_are_refused_with_401(api, path, method):
    response = api.request(
        method.lower(),
        re.sub(r"{\w+}", "x", path),
        user=None,
        json={} if method in WRITES else None,
    )
    assert response.status_code == 401, response.body
    assert "detail" in response.json_body


def test_every_route_is_covered_by_the_role_table():
    resources = {path.strip("/").split("/")[0] for path, _ in _routes()}
    specials = {
        "public",
        "cache",
        "releases",
        "check-protected",
        "health",
        "auth-token",
        "me",
        "register-file",
        "water-requirement",
        "water-restricted-subjects",
        "brain-regions",
        "cache.zip",
        "new-download",
        "sync-file-status",
        "api",
        "uploads",
        "alyx-import",
        "notification-checks",
        "uploaded",  # a note image's Alyx media path: tests/test_notes.py
        "analyses",  # training-time runs: tests/test_training_time_runs.py
        "{lab}",
        "",
    }
    assert resources - specials == set(rest.REGISTRY)


@pytest.mark.parametrize("name", sorted(rest.REGISTRY))
def test_everyone_with_an_account_reads_every_resource(api, world, name):
    key = world["keys"][name]
    for user in ("admin", "alice", "bob", "pub"):
        listed = api.get(f"/{name}", user=user)
        assert listed.status_code == 200, (user, listed.body)
        assert listed.json_body["count"] >= 1
        assert api.get(f"/{name}/{key}", user=user).status_code == 200, user


@pytest.mark.parametrize("name", sorted(rest.REGISTRY))
def test_a_public_user_cannot_change_anything(api, world, name):
    key, actions = world["keys"][name], rest.REGISTRY[name].actions
    assert api.patch(f"/{name}/{key}", {}, user="pub").status_code == 403
    if "delete" in actions:
        assert api.delete(f"/{name}/{key}", user="pub").status_code == 403
    if "create" in actions:
        assert api.post(f"/{name}", {}, user="pub").status_code in (400, 403)


LAB_SCOPED = sorted(name for name, resource in rest.REGISTRY.items() if resource.lab_scoped)
SUPERUSER_ONLY = sorted(
    name
    for name, resource in rest.REGISTRY.items()
    if not resource.lab_scoped and not resource.owner_of and "update" in resource.actions
)


@pytest.mark.parametrize("name", LAB_SCOPED)
def test_a_lab_member_cannot_edit_another_labs_records(api, world, name):
    key = world["keys"][name]
    refused = api.patch(f"/{name}/{key}", {}, user="bob")
    assert refused.status_code == 403
    assert "cortexlab" in refused.json_body["detail"]
    assert api.delete(f"/{name}/{key}", user="bob").status_code == 403


@pytest.mark.parametrize("name", LAB_SCOPED)
def test_a_lab_member_edits_its_own_labs_records(api, world, name):
    key = world["keys"][name]
    assert api.patch(f"/{name}/{key}", {}, user="alice").status_code == 200


@pytest.mark.parametrize("name", SUPERUSER_ONLY)
def test_only_superusers_change_shared_vocabulary_and_accounts(api, world, name):
    key = world["keys"][name]
    refused = api.patch(f"/{name}/{key}", {}, user="alice")
    assert refused.status_code == 403
    assert "superusers" in refused.json_body["detail"]
    assert api.patch(f"/{name}/{key}", {}, user="admin").status_code == 200


def test_a_lab_member_cannot_create_a_subject_in_another_lab(api):
    refused = api.post("/subjects", {"nickname": "CSH_001", "lab": "churchlandlab"}, user="alice")
    assert refused.status_code == 403
    assert api.post("/subjects", {"nickname": "KS099", "lab": "cortexlab"}, user="alice").status_code == 201


def test_a_lab_member_cannot_register_files_into_another_labs_session(api, world):
    body = {"path": "KS023/2024-01-31/001", "filenames": ["alf/spikes.clusters.npy"], "labs": "cortexlab"}
    assert api.post("/register-file", body, user="bob").status_code == 403
    assert api.post("/register-file", body, user="alice").status_code == 201


def test_a_lab_member_may_delete_its_own_labs_records(api, world):
    weighing = api.post("/weighings", {"subject": "KS023", "weight": 25.0}, user="alice").json_body["id"]
    assert api.delete(f"/weighings/{weighing}", user="alice").status_code == 204
    assert api.get(f"/weighings/{weighing}", user="alice").status_code == 404
