"""The README's ONE recipes, run as written (but for the local stack's port) against the running stack:
with alice's account, and anonymously on the public release."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.test_public_one import RELEASED, home, released, stack  # noqa: F401 - the shared set-up

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parent.parent / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8000"


def recipe(calling: str) -> str:
    (found,) = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if calling in b]
    return found


def run(code: str, url: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(code.replace(DOCUMENTED_URL, url), str(README), "exec"), namespace)
    return namespace


def test_the_account_recipe_loads_the_session_files(stack, home, released):  # noqa: F811
    result = run(recipe("connect("), stack.url)
    table = pd.read_parquet(io.BytesIO(released["files"][RELEASED[0]]))
    np.testing.assert_array_equal(result["trials"]["choice"], table["choice"])
    np.testing.assert_array_equal(
        result["trials"]["goCue_times"], np.load(io.BytesIO(released["files"][RELEASED[1]]))
    )
    np.testing.assert_array_equal(result["spikes"], np.load(io.BytesIO(released["files"][RELEASED[2]])))
    assert str(result["eid"]) == released["eid"]


def test_the_release_recipe_loads_without_an_account(stack, home, released):  # noqa: F811
    result = run(recipe("open_release("), stack.url)
    table = pd.read_parquet(io.BytesIO(released["files"][RELEASED[0]]))
    np.testing.assert_array_equal(result["trials"]["choice"], table["choice"])
    assert str(result["eid"]) == released["eid"]
    assert not result["one"].alyx.is_logged_in
