"""ibllib for the end-to-end tests, outside the project's environment.

ibllib's full requirements are a whole analysis stack (atlas, Qt, video, spike sorting...). Its
registration module imports only ONE, iblutil, OpenCV (through ``ibllib.io.video``), the Globus SDK
(through ONE's ``one.remote.globus``) and what the project's
test environment already has (numpy, pandas, requests, PyYAML, packaging), so those few wheels are
installed with ``--no-deps`` into a folder of their own, once (kept under ``.cache/``), and put on the
path of the subprocess that runs ibllib.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IBLLIB = (
    "ibllib==4.1.0",
    "iblutil==1.20.0",
    "opencv-python-headless==4.12.0.88",
    "colorlog==6.9.0",
    "globus-sdk==4.10.0",  # ONE's one.remote.globus (imported by the registration module) needs it
)
FOLDER = ROOT / ".cache" / "ibllib-4.1.0"


def ibllib_path() -> Path:
    """The folder holding ibllib and the few packages its registration imports (installed on first use)."""
    done = FOLDER / ".installed"
    if done.exists() and done.read_text().split() == list(IBLLIB):
        return FOLDER
    partial = FOLDER.with_name(FOLDER.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        + ["--target", str(partial), *IBLLIB],
        check=True,
        timeout=900,
    )
    shutil.rmtree(FOLDER, ignore_errors=True)
    partial.rename(FOLDER)
    done.write_text("\n".join(IBLLIB) + "\n")
    return FOLDER
