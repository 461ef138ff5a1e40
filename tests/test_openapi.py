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
