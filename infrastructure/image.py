"""`python -m infrastructure.image --stage dev --tag <tag>`: build the Batch image and push it to ECR.

The image is built from `batch/Dockerfile` with the repository as context (the jobs run chalicelib) and
pushed to the stage's repository, which the data stack creates; the job definitions name the same tag.
The ECR client comes from the deployer's default AWS session (profile and region, as `cdk deploy` uses),
not from chalicelib's configuration, which describes the deployed app rather than who deploys it.
"""

from __future__ import annotations

import argparse
import base64
import subprocess
from collections.abc import Callable
from typing import Any

import boto3

from infrastructure.stages import ROOT, Stage, load_stage, stage_names

DOCKERFILE = ROOT / "batch" / "Dockerfile"

Runner = Callable[..., Any]


def push_image(stage: Stage, tag: str, *, ecr: Any = None, run: Runner = subprocess.run) -> str:
    """Build, log in, push; returns the pushed image's URI."""
    ecr = ecr or boto3.session.Session().client("ecr")
    repository = ecr.describe_repositories(repositoryNames=[stage.image_repository])["repositories"][0]
    image = f"{repository['repositoryUri']}:{tag}"
    # Batch instances are x86_64 (c5, m5, g4dn), whatever machine builds the image.
    run(
        [
            "docker",
            "build",
            "--platform",
            "linux/amd64",
            "--file",
            str(DOCKERFILE),
            "--tag",
            image,
            str(ROOT),
        ],
        check=True,
    )
    authorization = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(authorization["authorizationToken"]).decode().split(":", 1)
    run(
        ["docker", "login", "--username", user, "--password-stdin", authorization["proxyEndpoint"]],
        input=password,
        text=True,
        check=True,
    )
    run(["docker", "push", image], check=True)
    return image


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=stage_names(), default="dev")
    parser.add_argument("--tag", required=True, help="the tag the job definitions were synthesized with")
    args = parser.parse_args(argv)
    print(f"pushed {push_image(load_stage(args.stage), args.tag)}")


if __name__ == "__main__":
    main()
