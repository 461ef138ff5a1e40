"""The Batch image installs only ``batch/requirements.txt``: everything the jobs import must come from it.

The default sorter imports some of its dependencies only on the way (motion correction, for one, runs
only on a whole probe, where drift shows), so the check runs the default sorting path for real, on a short
recording of a whole 384-channel Neuropixels 1.0 probe, in a fresh process that can import only the
standard library, this project and what the image installs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bench.sorting import write_ground_truth

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh process where every module of a distribution the image does not install is marked absent:
# importing it raises ImportError as it would there, and optional imports are skipped as they would be.
SORT_IN_THE_IMAGES_ENVIRONMENT = """
import json, sys
from importlib.metadata import packages_distributions
from pathlib import Path

allowed = set(json.loads(sys.argv[5]))
absent = set()
for top, dists in packages_distributions().items():
    if top not in sys.stdlib_module_names and not {d.lower().replace("_", "-") for d in dists} & allowed:
        sys.modules[top] = None  # import raises ImportError, find_spec answers None: as if not installed
        absent.add(top)
import batch.spike_sorting  # noqa: the job's own module, with everything it imports
from batch.sorting import DEFAULT_SORTER, sort_recording

cbin, ch, meta, folder = map(Path, sys.argv[1:5])
written = sort_recording(cbin, ch, meta, folder / "alf", work_dir=folder / "work", n_jobs=1, progress=False)
print(json.dumps({"sorter": DEFAULT_SORTER, "written": len(written), "absent": sorted(absent)}))
"""


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


def _installed_with(names: set[str]) -> set[str]:
    """``names`` and every distribution they require, as installed here (extras left out, as pip does)."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_normal(requirement.name))
    return found


@pytest.fixture(scope="module")
def default_sort_in_the_image(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("default-sort")
    cbin, ch, meta, _ = write_ground_truth(folder / "raw", channels=384, seconds=3.0, units=8, seed=3)
    # onecloud is this project (the image copies chalicelib/ and batch/); pip and setuptools come with
    # the image's Python; the rest must be pinned in batch/requirements.txt or required by what is
    allowed = sorted(_installed_with(set(_pinned())) | {"onecloud", "pip", "setuptools"})
    result = subprocess.run(
        [sys.executable, "-c", SORT_IN_THE_IMAGES_ENVIRONMENT, str(cbin), str(ch), str(meta), str(folder)]
        + [json.dumps(allowed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ONECLOUD_LOG_LEVEL": "WARNING"},
        timeout=2400,
    )
    failure = result.stderr[-5000:]
    assert result.returncode == 0, f"the default sort fails with only the image's packages:\n{failure}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_batch_requirements_pin_the_versions_installed_here() -> None:
    """The local stack runs the jobs with this environment: the image must run the same releases."""
    different = {name: (pin, version(name)) for name, pin in _pinned().items() if version(name) != pin}
    assert not different, f"batch/requirements.txt pin vs installed: {different}"


@pytest.mark.e2e
def test_the_default_sorter_sorts_a_whole_probe_with_only_what_the_batch_image_installs(
    default_sort_in_the_image,
) -> None:
    sorter = default_sort_in_the_image["sorter"]
    assert default_sort_in_the_image["written"], f"{sorter} wrote no ALF file"
    # the dev environment's own packages were really out of reach
    assert {"_pytest", "moto", "playwright"} <= set(default_sort_in_the_image["absent"])
