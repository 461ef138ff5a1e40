"""GET /api/schema: a valid OpenAPI 3 document, generated from the routes, that ONE can read."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.web.pages import is_page


@pytest.fixture(scope="module")
def schema(module_api):
    response = module_api.get("/api/schema")
    assert response.status_code == 200
    return response.json_body


def test_the_schema_is_valid_openapi_3(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")


def test_the_schema_lists_every_route_and_method(schema):
    for path, methods in app.routes.items():
        if is_page(path):
            assert path not in schema["paths"], path  # web pages are HTML, not REST
            continue
        assert path in schema["paths"], path
        assert set(schema["paths"][path]) == {m.lower() for m in methods}, path


def test_list_filters_are_query_parameters_one_can_send(schema):
    names = {p["name"] for p in schema["paths"]["/sessions"]["get"]["parameters"]}
    assert {"subject", "lab", "number", "date_range", "datasets", "django", "limit", "offset"} <= names


def test_bodies_refer_to_the_resource_fields(schema):
    body = schema["paths"]["/subjects"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    fields = schema["components"]["schemas"][body["$ref"].split("/")[-1]]
    assert {"nickname", "lab", "sex", "birth_date"} <= set(fields["properties"])
    assert "nickname" in fields["required"]


def test_one_reads_endpoints_and_actions_from_it(schema):
    from one.webclient import RestSchemeOpenApi

    scheme = RestSchemeOpenApi(schema)
    assert {"sessions", "subjects", "datasets", "register-file", "water-requirement"} <= set(scheme.endpoints)
    assert scheme.actions("sessions") == ["create", "delete", "list", "partial_update", "read", "update"]
    assert "date_range" in scheme.field_names("sessions", "list")
    assert "nickname" in scheme.field_names("subjects", "create")


def test_the_root_lists_every_endpoint_a_get_reaches(module_api):
    root = module_api.get("/").json_body
    for path, methods in app.routes.items():
        if path != "/" and "GET" in methods and "{" not in path:
            assert root[path.strip("/")] == f"http://localhost{path}"
    assert all(re.match(r"^http://localhost/[^{}]+$", url) for url in root.values())


def test_every_operation_declares_its_statuses_and_their_bodies(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert any(status.startswith(("2", "3")) for status in responses), (method, path)
            for status, answer in responses.items():
                if status.startswith("4"):
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/error"
                    }


def test_resource_operations_declare_their_record_shapes(schema):
    sessions, session = schema["paths"]["/sessions"], schema["paths"]["/sessions/{key}"]
    page = sessions["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["required"] == ["count", "next", "previous", "results"]
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/sessions-record"}
    assert set(sessions["post"]["responses"]) == {"201", "400", "401", "403", "404", "409"}
    assert "content" not in session["delete"]["responses"]["204"]
    record = schema["components"]["schemas"]["users-record"]["properties"]
    assert "password" not in record
    assert record["is_superuser"]["type"] == "boolean"


def test_anonymous_operations_do_not_declare_401_unless_they_challenge(schema):
    assert "401" not in schema["paths"]["/health"]["get"]["responses"]
    assert set(schema["paths"]["/auth-token"]["post"]["responses"]) == {"200", "400"}
    download = schema["paths"]["/{lab}/Subjects/{subject}/{date}/{number}/{filename}"]["get"]["responses"]
    assert {"302", "401"} <= set(download)


def test_the_limits_are_in_the_schema(schema):
    sessions = schema["components"]["schemas"]["sessions"]["properties"]
    assert sessions["narrative"]["maxLength"] == 100_000
    assert sessions["task_protocol"]["maxLength"] == 255
    assert sessions["subject"]["minLength"] == 1
    weighings = schema["components"]["schemas"]["weighings"]["properties"]
    assert weighings["weight"]["maximum"] == 9.9e125
    assert "nullable" not in schema["components"]["schemas"]["subjects"]["properties"]["description"]


def test_a_route_whose_view_returns_a_list_declares_an_array():
    """A new endpoint needs no ``openapi=`` for its answer's shape: a view annotated ``-> list`` is
    declared as a JSON array (the fuzz test checks every answer against it)."""
    from chalicelib.handlers.schema import openapi

    document = openapi(app.routes, "http://localhost")
    listing = [
        (path, method)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if not is_page(path) and str(_returns(entry)).startswith("list")
    ]
    assert listing
    for path, method in listing:
        declared = document["paths"][path][method.lower()]["responses"]["200"]["content"]["application/json"]
        assert declared["schema"]["type"] == "array", (method, path)


def _returns(entry):
    view = getattr(entry.view_function, "__wrapped__", None) or entry.view_function
    return (getattr(view, "__annotations__", None) or {}).get("return")
