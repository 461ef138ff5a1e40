"""Every REST write leaves an audit record, and a change based on a stale read is refused with a 409."""

from __future__ import annotations

import threading

from chalicelib import history, rest


def _subject(api, **extra):
    created = api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab", **extra}, user="alice")
    assert created.status_code == 201, created.json_body
    return created


def test_each_write_is_recorded_with_who_and_what_changed(api):
    _subject(api, description="new")
    api.patch("/subjects/KS023", {"description": "moved", "sex": "F"}, user="alice")
    api.patch("/subjects/KS023", {"description": "moved again"})
    trail = api.get("/subjects/KS023/history", user="bob").json_body
    assert trail["count"] == 3
    newest, middle, oldest = trail["results"]
    assert (oldest["version"], oldest["action"], oldest["user"]) == (1, "create", "alice")
    assert oldest["changes"]["nickname"] == [None, "KS023"]
    assert middle["user"] == "alice"
    assert middle["changes"] == {"description": ["new", "moved"], "sex": ["U", "F"]}
    assert (newest["version"], newest["user"]) == (3, "admin")
    assert newest["changes"] == {"description": ["moved", "moved again"]}


def test_a_write_that_changes_nothing_adds_no_entry(api):
    _subject(api, description="same")
    api.patch("/subjects/KS023", {"description": "same"}, user="alice")
    assert api.get("/subjects/KS023/history").json_body["count"] == 1


def test_a_read_gives_the_version_and_a_stale_change_is_refused_saying_what_changed(api):
    _subject(api, description="first")
    read = api.get("/subjects/KS023", user="alice")
    assert read.headers["ETag"] == '"1"'
    api.patch("/subjects/KS023", {"description": "by admin"}, headers={"If-Match": '"1"'})
    stale = api.patch(
        "/subjects/KS023", {"sex": "M"}, user="alice", headers={"If-Match": read.headers["ETag"]}
    )
    assert stale.status_code == 409
    detail = stale.json_body["detail"]
    assert "changed since version 1 (now 2)" in detail
    assert "description 'first' -> 'by admin'" in detail and "admin" in detail
    assert stale.json_body["version"] == 2
    assert api.get("/subjects/KS023").json_body["sex"] == "U"
    fresh = api.patch("/subjects/KS023", {"sex": "M"}, user="alice", headers={"If-Match": '"2"'})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"3"'


def test_a_stale_delete_is_refused_and_a_delete_is_recorded(api):
    created = api.post("/projects", {"name": "ibl"})
    assert created.status_code == 201
    api.patch("/projects/ibl", {"description": "brain-wide map"})
    assert api.delete("/projects/ibl", headers={"If-Match": '"1"'}).status_code == 409
    assert api.delete("/projects/ibl", headers={"If-Match": '"2"'}).status_code == 204
    assert history.entries("projects/ibl")[0]["action"] == "delete"


def test_an_unreadable_if_match_is_a_400(api):
    _subject(api)
    refused = api.patch("/subjects/KS023", {"sex": "M"}, headers={"If-Match": "yesterday"})
    assert refused.status_code == 400 and "If-Match" in refused.json_body["detail"]


def test_secrets_never_reach_the_audit_trail(api):
    api.post("/users", {"username": "carol", "password": "s3cret-pw"})
    api.patch("/users/carol", {"password": "other-pw"})
    text = str(history.entries("users/carol"))
    assert "s3cret" not in text and "other-pw" not in text and "***" in text


def test_two_writers_racing_on_one_version_cannot_both_win(api):
    """Both read version 1; the audit entry each writes is conditional, so one gets the 409."""
    from chalicelib.auth import Principal
    from chalicelib.rest import REGISTRY, Context

    _subject(api)
    subjects = REGISTRY["subjects"]
    ctx = Context(principal=Principal(username="admin", is_superuser=True, labs=frozenset()))
    outcomes: list[str] = []
    barrier = threading.Barrier(2)
    original = history.current_version

    def slow_version(record: str) -> int:
        version = original(record)
        barrier.wait(timeout=10)  # both writers have read the same version before either writes
        return version

    def write(text: str) -> None:
        try:
            rest.update_item(subjects, "KS023", {"description": text}, ctx, partial=True)
            outcomes.append("ok")
        except history.Stale:
            outcomes.append("409")

    history.current_version = slow_version
    try:
        threads = [threading.Thread(target=write, args=(t,)) for t in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        history.current_version = original
    assert sorted(outcomes) == ["409", "ok"]
    assert history.current_version("subjects/" + api.get("/subjects/KS023").json_body["id"]) == 2
