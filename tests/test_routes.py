"""What every path answers: a JSON 404 where no route matches, links from ``GET /`` that lead somewhere,
and one Content-Length per response over real HTTP."""

from __future__ import annotations

import http.client
import threading

import pytest

from onecloud.gateway import local_server
from tests.localstack import free_port


@pytest.mark.parametrize("user", [None, "alice"])
@pytest.mark.parametrize("path", ["/api", "/nope", "/subjects/KS023/nope", "/sessions/a/b/c"])
def test_a_path_no_route_matches_is_a_json_404(module_api, path, user):
    answer = module_api.get(path, user=user)
    assert answer.status_code == 404
    assert path in answer.json_body["detail"]


def test_every_link_of_the_root_leads_to_an_endpoint(module_api):
    links = module_api.get("/").json_body
    assert "subjects" in links and "api/schema" in links
    for name, url in links.items():
        answer = module_api.get(url.removeprefix("http://localhost"))
        # an endpoint that needs parameters names them in a 400; none is missing or refused to the superuser
        assert answer.status_code in (200, 302, 303, 400), (name, answer.status_code, answer.body[:200])


@pytest.fixture(scope="module")
def http_api(module_api):
    """The app served over HTTP by the local stack's server, in this process (moto included)."""
    from chalice.config import Config

    from app import app

    server = local_server(app, Config(chalice_stage="dev"), "127.0.0.1", free_port())
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server.server_close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/health", 200), ("GET", "/nope", 404), ("GET", "/subjects", 200), ("POST", "/subjects", 400)],
)
def test_each_response_carries_one_content_length(module_api, http_api, method, path, status):
    connection = http.client.HTTPConnection("127.0.0.1", http_api.port, timeout=10)
    headers = {"Authorization": f"Token {module_api.tokens['admin']}", "Content-Type": "application/json"}
    connection.request(method, path, body="{}" if method == "POST" else None, headers=headers)
    response = connection.getresponse()
    body = response.read()
    assert response.status == status
    assert response.msg.get_all("Content-Length") == [str(len(body))]


def test_requests_at_the_same_time_each_get_their_own_answer(module_api, http_api):
    """The threaded local server keeps each request's own, as Lambda's separate containers do: Chalice
    keeps the current request on the app, so concurrent requests used to read each other's."""
    from concurrent.futures import ThreadPoolExecutor

    headers = {"Authorization": f"Token {module_api.tokens['admin']}", "Content-Type": "application/json"}

    def create(index: int) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", http_api.port, timeout=30)
        body = f'{{"nickname": "RACE_{index:02d}", "lab": "cortexlab"}}'
        connection.request("POST", "/subjects", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(16)))
    assert [status for status, _ in answers] == [201] * 16, answers
    assert [f'"RACE_{i:02d}"' in text for i, (_, text) in enumerate(answers)] == [True] * 16
