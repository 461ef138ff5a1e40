"""The Batch image installs only ``batch/requirements.txt``: everything the jobs import must come from it.

The default sorter imports some of its dependencies only on the way (motion correction, for one, runs
only on a probe long enough to drift), so the check runs the default sorting path for real, on a short
recording of a whole 384-channel Neuropixels 1.0 probe, in a fresh process, and lists the distributions
of every module that process imported.
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

SORT_THEN_LIST_IMPORTS = """
import json, sys
from importlib.metadata import packages_distributions
from pathlib import Path
from batch.sorting import DEFAULT_SORTER, sort_recording

cbin, ch, meta, folder = map(Path, sys.argv[1:])
sort_recording(cbin, ch, meta, folder / "alf", work_dir=folder / "work", n_jobs=1, progress=False)
imported = {name.split(".")[0] for name in sys.modules}
dists = {d for name in imported for d in packages_distributions().get(name, [])}
print(json.dumps({"sorter": DEFAULT_SORTER, "dists": sorted(dists)}))
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
def default_sort_imports(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("default-sort")
    cbin, ch, meta, _ = write_ground_truth(folder / "raw", channels=384, seconds=3.0, units=8, seed=3)
    result = subprocess.run(
        [sys.executable, "-c", SORT_THEN_LIST_IMPORTS, str(cbin), str(ch), str(meta), str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ONECLOUD_LOG_LEVEL": "WARNING"},
        timeout=2400,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_batch_requirements_pin_the_versions_installed_here() -> None:
    """The local stack runs the jobs with this environment: the image must run the same releases."""
    different = {name: (pin, version(name)) for name, pin in _pinned().items() if version(name) != pin}
    assert not different, f"batch/requirements.txt pin vs installed: {different}"


def test_the_default_sorter_on_a_whole_probe_imports_only_what_the_batch_image_installs(
    default_sort_imports,
) -> None:
    # onecloud is this project (the image copies chalicelib/ and batch/); pip and setuptools come with
    # the image's Python; the rest must be pinned in batch/requirements.txt or required by what is
    installable = _installed_with(set(_pinned())) | {"onecloud", "pip", "setuptools"}
    missing = {_normal(name) for name in default_sort_imports["dists"]} - installable
    sorter = default_sort_imports["sorter"]
    assert not missing, f"{sorter} imported these; add them to batch/requirements.txt: {missing}"
