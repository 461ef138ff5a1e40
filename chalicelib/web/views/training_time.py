"""The training-time analysis pages (the paper's Fig. 2): every run with its options and scores, two runs
side by side, and a run's four panels with the mice it left out and why. They read what the
``batch.training_time`` job stored (chalicelib/analyses/training_time/runs.py) and compute nothing."""

from __future__ import annotations

import statistics
from typing import Any

from chalice import Response

from chalicelib import storage
from chalicelib.analyses.training_time import figures, runs
from chalicelib.web.pages import Web, nav, page, render

nav("Training time", "/analyses/training-time", order=46)
MATRIX_LINK_SECONDS = 3600


def _listed(run: dict[str, Any]) -> dict[str, Any]:
    return {"progress": None, "error": "", "log": "", "summary": None, "user": "", **run}


def _row(run: dict[str, Any]) -> dict[str, Any]:
    """What the list and the comparison show of a run."""
    results = runs.read(run["id"], "results.json") if run.get("status") == "Complete" else None
    row = {**_listed(run), "results": results}
    if results:
        row["shuffled_median"] = {
            name: statistics.median(values) if values else None
            for name, values in results["shuffled_f1"].items()
        }
    return row


@page("/analyses/training-time")
def training_time_runs(web: Web) -> Response:
    """Every run, newest first; with ?a=<run>&b=<run>, the two side by side."""
    listed = [_listed(run) for run in runs.all_runs()]
    chosen = [web.query.get(k) for k in ("a", "b") if web.query.get(k)]
    compared = [_row(runs.get(run_id)) for run_id in chosen] if len(chosen) == 2 else []
    return render(
        web,
        "training_time_runs.html",
        title="Training time",
        runs=listed,
        compared=compared,
        chosen=chosen,
    )


@page("/analyses/training-time/{run_id}")
def training_time_run(web: Web, run_id: str) -> Response:
    run = _row(runs.get(run_id))
    results = run["results"]
    matrix = storage.presign_get(runs.key(run_id, runs.MATRIX), MATRIX_LINK_SECONDS) if results else None
    return render(
        web,
        "training_time_run.html",
        title=f"Training time {run_id}",
        run=run,
        results=results,
        panels=figures.panels(results) if results else None,
        matrix=matrix,
    )
