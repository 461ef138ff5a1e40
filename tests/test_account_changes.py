"""Account changes take effect on the next request: permissions are decided on the account as it is now.

Removing a member from a lab, demoting a superuser, deactivating or deleting a user: the very next request
is refused, and nothing the account held (tokens, memberships, upload intents) outlives the change.
"""

from __future__ import annotations

from chalicelib.auth import issue_token

MD5 = "0" * 32


def _subject(api, nickname: str, lab: str) -> dict:
    response = api.post("/subjects", {"nickname": nickname, "lab": lab})
    assert response.status_code == 201, response.body
    return response.json_body


def _session(api, nickname: str) -> dict:
    return api.post("/sessions", {"subject": nickname, "start_time": "2024-01-31T10:00:00"}).json_body


def _intent(api, session: dict, user: str) -> dict:
    response = api.post(
        "/uploads",
        {"session": session["id"], "files": [{"path": "alf/spikes.times.npy", "size": 8, "md5": MD5}]},
        user=user,
    )
    assert response.status_code == 201, response.body
    return response.json_body


def test_a_member_removed_from_a_lab_no_longer_writes_it_or_uploads_to_it(api):
    _subject(api, "CSH001", "churchlandlab")
    session = _session(api, "CSH001")
    intent = _intent(api, session, "bob")
    assert api.patch("/users/bob", {"lab": []}).status_code == 200
    assert api.get("/me", user="bob").json_body["labs"] == []
    before = api.get("/subjects/CSH001").json_body
    assert api.patch("/subjects/CSH001", {"description": "mine"}, user="bob").status_code == 403
    assert api.get("/subjects/CSH001").json_body == before
    upload = {"session": session["id"], "files": [{"path": "alf/spikes.times.npy", "size": 8, "md5": MD5}]}
    assert api.post("/uploads", upload, user="bob").status_code == 403
    shown = api.get(f"/uploads/{intent['id']}").json_body
    assert api.post(f"/uploads/{intent['id']}/renew", user="bob").status_code == 403
    assert api.get(f"/uploads/{intent['id']}").json_body["expires"] == shown["expires"]


def test_a_member_added_back_writes_again(api):
    _subject(api, "CSH002", "churchlandlab")
    api.patch("/users/bob", {"lab": []})
    api.patch("/users/bob", {"lab": ["churchlandlab"]})
    assert api.get("/me", user="bob").json_body["labs"] == ["churchlandlab"]
    assert api.patch("/subjects/CSH002", {"description": "mine"}, user="bob").status_code == 200


def test_a_demoted_superuser_cannot_renew_its_old_upload_intent(api):
    from chalicelib.accounts import create_user

    create_user("root2", "root2-pw", is_superuser=True)
    tokens = {**api.tokens, "root2": issue_token("root2")}
    api.tokens.update(tokens)
    _subject(api, "CSH003", "churchlandlab")
    intent = _intent(api, _session(api, "CSH003"), "root2")
    assert api.patch("/users/root2", {"is_superuser": False}).status_code == 200
    before = api.get(f"/uploads/{intent['id']}").json_body
    response = api.post(f"/uploads/{intent['id']}/renew", user="root2")
    assert response.status_code == 403, response.body
    assert api.get(f"/uploads/{intent['id']}").json_body == before


def test_a_public_user_cannot_renew_a_labs_upload_intent(api):
    _subject(api, "CSH004", "churchlandlab")
    intent = _intent(api, _session(api, "CSH004"), "bob")
    before = api.get(f"/uploads/{intent['id']}").json_body
    for step in ("renew", "parts", "complete"):
        response = api.post(f"/uploads/{intent['id']}/{step}", {"path": "alf/spikes.times.npy"}, user="pub")
        assert response.status_code == 403, (step, response.body)
    assert api.get(f"/uploads/{intent['id']}").json_body == before


def test_a_deleted_users_token_stops_working_and_a_new_account_of_that_name_inherits_nothing(api):
    old_token = api.tokens["bob"]
    assert api.delete("/users/bob").status_code == 204
    assert api.get("/me", user="bob").status_code == 403  # "Invalid token.": ONE logs in again
    created = api.post("/users", {"username": "bob", "password": "new-bob-pw"})
    assert created.status_code == 201, created.body
    assert created.json_body["lab"] == []
    assert api.get("/me", user="bob").status_code == 403  # the old token is not the new account's
    api.tokens["bob"] = issue_token("bob")
    assert api.get("/me", user="bob").json_body["labs"] == []
    assert api.get("/me", user="bob").status_code == 200
    assert old_token != api.tokens["bob"]


def test_deactivating_a_user_revokes_its_tokens(api):
    assert api.patch("/users/alice", {"is_active": False}).status_code == 200
    assert api.get("/me", user="alice").status_code == 403
    api.patch("/users/alice", {"is_active": True})
    assert api.get("/me", user="alice").status_code == 403  # reactivated: log in again for a new token
    response = api.client.http.post(
        "/auth-token",
        headers={"Content-Type": "application/json"},
        body='{"username": "alice", "password": "alice-pw"}',
    )
    assert response.status_code == 200


def test_the_last_superuser_cannot_be_deleted_demoted_or_deactivated(api):
    before = api.get("/users/admin").json_body
    for method, body in (
        ("delete", None),
        ("patch", {"is_superuser": False}),
        ("patch", {"is_active": False}),
    ):
        response = api.request(method, "/users/admin", json=body)
        assert response.status_code == 409, (method, body, response.body)
        assert "last active superuser" in response.json_body["detail"]
    assert api.get("/users/admin").json_body == before


def test_a_superuser_may_step_down_once_another_one_exists(api):
    assert api.patch("/users/alice", {"is_superuser": True}).status_code == 200
    assert api.patch("/users/admin", {"is_superuser": False}).status_code == 200
    assert api.get("/me").json_body["is_superuser"] is False
    assert api.delete("/users/alice", user="alice").status_code == 409  # now the last one


def test_a_token_table_kept_from_before_gains_the_index_revocation_needs(cloud):
    """A local stack restarted on an old state folder: its auth-tokens table lacks the username index."""
    from chalicelib import aws
    from chalicelib.auth import revoke_tokens
    from chalicelib.models import AuthToken
    from chalicelib.models.tables import table_definition
    from onecloud import provision

    dynamodb, definition = aws.client("dynamodb"), table_definition(AuthToken)
    dynamodb.delete_table(TableName=definition["TableName"])
    old = {k: v for k, v in definition.items() if k != "GlobalSecondaryIndexes"}
    old["AttributeDefinitions"] = [
        a for a in definition["AttributeDefinitions"] if a["AttributeName"] == "token_hash"
    ]
    dynamodb.create_table(**old)
    provision.create_tables()
    issue_token("someone")
    assert revoke_tokens("someone") == 1
