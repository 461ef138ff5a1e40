"""What an IBL lab server runs, with ibllib from PyPI, unchanged: ``IBLRegistrationClient.register_session``
(its default arguments) on a rig's session folder, then its task runner's query for Waiting tasks.

Run by tests/test_ibllib.py in a subprocess whose path holds ibllib (tests.ibllib_env), so that ibllib
never enters the project's environment: ``python -m tests.ibllib_lab register|tasks URL USER PASSWORD ...``
prints one JSON line.

ibllib's task query lives in ``ibllib.pipes.local_server`` (``_waiting_tasks``), a module that imports
the whole pipeline (atlas, video, sorting...). Its source is read from the installed ibllib and the one
function is run as written, with the real helpers it calls (ONE's Globus lookup and ibllib's
``get_local_data_repository``).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import sys
from pathlib import Path
from typing import Any


def waiting_tasks_function() -> Any:
    from ibllib.oneibl.registration import get_local_data_repository
    from one.remote.globus import get_lab_from_endpoint_id

    source = Path(importlib.util.find_spec("ibllib.pipes.local_server").origin).read_text()
    [function] = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name == "_waiting_tasks"
    ]
    namespace = {
        "get_lab_from_endpoint_id": get_lab_from_endpoint_id,
        "get_local_data_repository": get_local_data_repository,
        "_logger": logging.getLogger("ibllib.pipes.local_server"),
    }
    exec(
        compile(ast.Module(body=[function], type_ignores=[]), "ibllib/pipes/local_server.py", "exec"),
        namespace,
    )
    return namespace["_waiting_tasks"]


def register(url: str, username: str, password: str, session_path: str, cache_dir: str) -> dict[str, Any]:
    """``IBLRegistrationClient(one).register_session(session_path)``, as a lab server calls it."""
    from ibllib.oneibl.registration import IBLRegistrationClient
    from one.api import ONE

    one = ONE(
        base_url=url,
        username=username,
        password=password,
        silent=True,
        cache_dir=cache_dir,
        mode="remote",
        cache_rest=None,
    )
    session, records = IBLRegistrationClient(one).register_session(session_path)
    return {"session": session["id"], "files": sorted(r["name"] for r in records or [])}


def tasks(url: str, username: str, password: str) -> dict[str, Any]:
    """The lab server's task loop query: the lab is found from the server's Globus endpoint."""
    from one.webclient import AlyxClient

    alyx = AlyxClient(base_url=url, username=username, password=password, silent=True, cache_rest=None)
    return {"waiting": [task["name"] for task in waiting_tasks_function()(alyx) or []]}


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    print(json.dumps({"register": register, "tasks": tasks}[command](*arguments)))
