"""The Lambda package: app.py pulls in only the domain and what requirements.txt lists."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from importlib.metadata import packages_distributions
import app
names = {name.split('.')[0] for name in sys.modules}
dists = packages_distributions()
print(json.dumps({"modules": sorted(names), "dists": sorted({d for n in names for d in dists.get(n, [])})}))
"""


def _imported_by_app() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _requirements() -> set[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {_normal(re.split(r"[=<>\[]", line)[0]) for line in lines if line and not line.startswith("#")}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).strip().lower()


def test_the_lambda_app_imports_no_local_stack_or_test_tooling():
    modules = set(_imported_by_app()["modules"])
    assert not modules & {"moto", "pytest", "onecloud", "hypothesis", "requests"}


def test_every_package_the_lambda_app_imports_is_in_requirements_txt():
    # chalice is the framework itself (Chalice vendors its runtime into the package), onecloud is this
    # project, setuptools the virtual environment's import hooks; the rest come with the listed packages.
    allowed = _requirements() | {"chalice", "onecloud", "setuptools"}
    transitive = {
        "botocore",
        "s3transfer",
        "jmespath",
        "python-dateutil",
        "six",
        "urllib3",
        "typing-extensions",
        "certifi",
        "blinker",
    }
    missing = {_normal(d) for d in _imported_by_app()["dists"]} - allowed - transitive
    assert not missing, f"add to requirements.txt: {missing}"
