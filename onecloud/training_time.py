"""``onecloud analyses training-time``: follow a run with a progress bar and say what it found."""

from __future__ import annotations

import statistics
import time
from typing import Any

from tqdm import tqdm

from onecloud.client import Api

FINAL = ("Complete", "Errored")


def follow(api: Api, run_id: str, poll: float = 2.0) -> dict[str, Any]:
    """The run once it has ended, with a bar per step of its progress meanwhile (silent off a terminal)."""
    bar, step = None, None
    try:
        while True:
            run = api.get(f"/analyses/training-time/{run_id}")
            progress = run.get("progress") or {}
            if progress.get("step") != step:
                if bar:
                    bar.close()
                step = progress.get("step")
                bar = tqdm(total=progress.get("total", 1), desc=step, disable=None)
            if bar is not None:
                bar.update(progress.get("done", 0) - bar.n)
            if run["status"] in FINAL:
                return run
            time.sleep(poll)
    finally:
        if bar:
            bar.close()


def summary(url: str, run: dict[str, Any]) -> str:
    if run["status"] != "Complete":
        return f"run {run['id']} {run['status']}: {run.get('error', '')}\n{run.get('log', '')}".rstrip()
    results = run["results"]
    lines = [
        f"run {run['id']}: {results['n_mice']} mice ({len(results['excluded'])} excluded), "
        f"quartile cut points {', '.join(f'{c:g}' for c in results['cut_points'])} sessions",
    ]
    for name, f1 in results["f1"].items():
        shuffled = results["shuffled_f1"][name]
        median = f"{statistics.median(shuffled):.3f}" if shuffled else "n/a"
        lines.append(f"  F1 {name}: {f1:.3f} (median of {len(shuffled)} shuffles {median})")
    lines.append(f"  most important: {', '.join(results['ranking'][:3])}")
    lines.append(f"  {url}/ui/analyses/training-time/{run['id']}")
    return "\n".join(lines)
