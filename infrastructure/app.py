"""The CDK app of one stage: the data stack, the Batch compute stack and the API stack."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App

from chalicelib import aws
from infrastructure.api_stack import ApiStack
from infrastructure.compute_stack import ComputeStack
from infrastructure.data_stack import DataStack
from infrastructure.stages import ROOT, Stage

# CDK feature flags this app relies on (new behaviour that CDK keeps off by default for old apps).
FEATURE_FLAGS = {
    # Grant S3 log delivery through the log bucket's policy rather than an ACL (ACLs are disabled).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build_app(stage: Stage, *, outdir: Path, image_tag: str, app_dir: Path = ROOT) -> App:
    """``app_dir`` is the Chalice project to package (the repository, unless a test packages a copy)."""
    _check_configured_for(stage)
    app = App(outdir=str(outdir), context=FEATURE_FLAGS)
    data = DataStack(app, stage.stack_name("data"), stage=stage)
    compute = ComputeStack(app, stage.stack_name("compute"), stage=stage, image_tag=image_tag)
    api = ApiStack(app, stage=stage, app_dir=app_dir)
    compute.add_stack_dependency(data)
    api.add_stack_dependency(data)
    api.add_stack_dependency(compute)
    return app


def _check_configured_for(stage: Stage) -> None:
    """Table names come from chalicelib's configuration, read once per process; the app `chalice package`
    imports reads it too. Both must be the stage's, or a stage would be built on another's names."""
    current = aws.settings()
    wanted = stage.settings
    named = ("table_prefix", "data_bucket", "upload_queue", "upload_dead_letter_queue")
    if any(getattr(current, field) != getattr(wanted, field) for field in named):
        raise RuntimeError(
            f"this process is configured for stage {current.stage!r}, not {stage.name!r}: synthesize with "
            f"`python -m infrastructure.synth --stage {stage.name}`, which sets the stage's environment first"
        )
