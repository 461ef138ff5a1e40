"""Configuration is read once; the endpoint is the only difference between AWS and the local stack."""

from chalicelib import aws
from chalicelib.config import Settings
from chalicelib.models import Session


def test_names_follow_the_stage_unless_set():
    settings = Settings.from_env({"ONECLOUD_STAGE": "prod"})
    assert settings.table_prefix == "onecloud-prod-"
    assert settings.data_bucket == "onecloud-prod-data"
    assert settings.backend == "aws"
    assert Settings.from_env({"ONECLOUD_DATA_BUCKET": "lab-bucket"}).data_bucket == "lab-bucket"


def test_an_endpoint_makes_the_backend_local():
    assert Settings.from_env({"ONECLOUD_AWS_ENDPOINT": "http://127.0.0.1:4566"}).backend == "local"


def test_configuring_an_endpoint_redirects_models_and_clients():
    before = aws.settings()
    try:
        aws.configure(
            Settings(table_prefix="lab-", aws_endpoint_url="http://127.0.0.1:4999", region="eu-west-2")
        )
        assert Session.Meta.table_name == "lab-sessions"
        assert Session.Meta.host == "http://127.0.0.1:4999"
        assert aws.client("s3").meta.endpoint_url == "http://127.0.0.1:4999"
        assert aws.client("sqs").meta.region_name == "eu-west-2"
    finally:
        aws.configure(before)
    assert Session.Meta.table_name == before.table_prefix + "sessions"
