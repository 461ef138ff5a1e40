"""`python -m infrastructure.synth --stage dev`: write the stage's CloudFormation templates (no CDK CLI).

The cloud assembly goes to `infrastructure/cdk.out/<stage>/`, which `cdk deploy --app` deploys as is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path

from infrastructure.stages import ROOT, load_stage, stage_names

OUT = ROOT / "infrastructure" / "cdk.out"


def synth(stage_name: str, *, outdir: Path, image_tag: str, app_dir: Path = ROOT) -> None:
    stage = load_stage(stage_name)
    # chalice package imports app.py under the stage's Lambda environment, and chalicelib reads its
    # configuration once per process: this process takes the same environment before anything imports
    # chalicelib's models, so the tables, the app's event sources and the IAM policies name one stage.
    os.environ.update(stage.environment)
    # chalice package makes a boto3 client it never calls, which wants a region; the templates name
    # none (they use AWS::Region), so the account's region is the one `cdk deploy` targets.
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = stage.settings.region
    from infrastructure.app import build_app

    outdir.mkdir(parents=True, exist_ok=True)
    # chalice.cdk writes its packages to ./chalice.out: keep them inside the (ignored) output folder.
    with contextlib.chdir(outdir):
        build_app(stage, outdir=outdir, image_tag=image_tag, app_dir=app_dir).synth()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=stage_names(), default="dev")
    parser.add_argument("--outdir", type=Path, help="default: infrastructure/cdk.out/<stage>")
    parser.add_argument("--image-tag", default="latest", help="tag of the Batch image the jobs run")
    parser.add_argument(
        "--app-dir", type=Path, default=ROOT, help="the Chalice project to package (default: this repository)"
    )
    args = parser.parse_args(argv)
    outdir = (args.outdir or OUT / args.stage).resolve()
    synth(args.stage, outdir=outdir, image_tag=args.image_tag, app_dir=args.app_dir.resolve())
    print(f"synthesized {args.stage} into {outdir}")


if __name__ == "__main__":
    main()
