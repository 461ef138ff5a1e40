"""GET /health: up, versions, backend; a database that cannot be reached is a 503, not a 500."""

from chalice.test import Client

from app import app
from chalicelib import aws


def test_health_reports_versions_and_backend(cloud):
    with Client(app) as client:
        response = client.http.get("/health")
    assert response.status_code == 200
    body = response.json_body
    assert body["status"] == "ok"
    assert body["backend"] == "aws"
    assert {"onecloud", "python", "boto3", "pynamodb"} <= set(body["versions"])


def test_health_says_when_the_database_is_unreachable(cloud):
    aws.configure(cloud.with_changes(table_prefix="missing-"))
    with Client(app) as client:
        response = client.http.get("/health")
    assert response.status_code == 503
    assert "database" in response.json_body["detail"]
