"""The Batch image installs only ``batch/requirements.txt``: it must pin what the local stack runs."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).strip().lower()


def _pinned() -> dict[str, str]:
    """``batch/requirements.txt`` as {distribution: pinned version}."""
    pins = {}
    for line in (ROOT / "batch/requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"pin {line!r} with ==: the image must run what was tested"
            pins[_normal(requirement.name)] = spec.version
    return pins


def test_the_batch_requirements_pin_the_versions_installed_here() -> None:
    """The local stack runs the jobs with this environment: the image must run the same releases."""
    different = {name: (pin, version(name)) for name, pin in _pinned().items() if version(name) != pin}
    assert not different, f"batch/requirements.txt pin vs installed: {different}"
