"""What a TrainingStatus job costs, to choose where it runs (Lambda or Batch).

Times the subject's table on the 11 real SWC_054 sessions computed from scratch and after one late
session (only the dates from it on are recomputed), measures the peak memory of each, and sizes the
packages the job imports (numpy, scipy, pyarrow) against Lambda's 250 MB unzipped limit, and times the
psychometric fits (most of a job's time) against psychofit's way, ``scipy.optimize.fmin`` one start after
the other, on the same data in the same run. Prints tables; exits non-zero if an incremental run is not
cheaper than a full one, or if the fits differ from fmin's or are not at least twice as fast.

    .venv/bin/python bench/training.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LAMBDA_LIMIT_MB = 250
LAMBDA_GB_SECOND = 0.0000166667  # USD, x86, us-east-1
SPOT_VCPU_HOUR = 0.0175  # USD, about a quarter of a c5.xlarge Spot hour


def package_mb(name: str) -> float:
    import importlib.util

    spec = importlib.util.find_spec(name)
    folder = Path(spec.origin).parent
    extra = folder.parent / f"{name}.libs"
    files = [p for root in (folder, extra) if root.exists() for p in root.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


FIT_SPEEDUP = 2.0


def fits() -> bool:
    """Every block of every third SWC_054 session and small noisy sessions, fitted both ways, alternating."""
    import numpy as np

    from chalicelib.behaviour import psychometric
    from tests.behaviour_data import fit_problems, fit_with_fmin

    ways = {"fmin, one start after the other": fit_with_fmin, "restarts side by side": psychometric.fit}
    seconds = dict.fromkeys(ways, 0.0)
    answers: dict[str, list] = {name: [] for name in ways}
    problems = fit_problems()
    for settings in (psychometric.STATUS, psychometric.PLOTTING):
        for problem in problems:
            for name, way in ways.items():
                started = time.process_time()
                answers[name].append(way(*problem, settings, np.random.RandomState(0)))
                seconds[name] += time.process_time() - started
    same = all(
        np.array_equal(a[0], b[0], equal_nan=True) and (a[1] == b[1] or a[1] != a[1] and b[1] != b[1])
        for a, b in zip(*answers.values(), strict=True)
    )
    count = 2 * len(problems)
    print(f"| psychometric fits ({count}: status 5 starts, plotting 10) | CPU seconds | ms per fit |")
    print("|---|---|---|")
    for name, total in seconds.items():
        print(f"| {name} | {total:.1f} | {1000 * total / count:.0f} |")
    reference, ours = seconds.values()
    print(f"speed-up {reference / ours:.1f}x (target >= {FIT_SPEEDUP}); same answers bit for bit: {same}")
    print()
    return same and reference / ours >= FIT_SPEEDUP


def main() -> int:
    fits_ok = fits()
    from chalicelib.behaviour.training import subject_training
    from tests.test_behaviour import swc_054_days

    days = swc_054_days()
    started = time.perf_counter()
    partial, _ = subject_training([d for d in days if d.date != "2020-09-02"])
    full_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _, assessed = subject_training(swc_054_days(), previous=partial)
    late_seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = {name: package_mb(name) for name in ("numpy", "scipy", "pyarrow")}
    print("| run | dates recomputed | seconds | peak RSS (MB) |")
    print("|---|---|---|---|")
    print(f"| 10 sessions from scratch | 10 | {full_seconds:.1f} | |")
    print(f"| one late session (2020-09-02) | {len(assessed)} | {late_seconds:.1f} | {peak_mb:.0f} |")
    print()
    print("| package | MB unzipped |")
    print("|---|---|")
    for name, size in sizes.items():
        print(f"| {name} | {size:.0f} |")
    total = sum(sizes.values())
    print(f"| total | {total:.0f} (Lambda limit {LAMBDA_LIMIT_MB}, app and boto3 not counted) |")
    lambda_cost = 2 * full_seconds * LAMBDA_GB_SECOND
    batch_cost = (full_seconds + 30) / 3600 * SPOT_VCPU_HOUR
    print()
    print(
        f"cost of a from-scratch run: Lambda 2 GB ${lambda_cost:.6f}; "
        f"Batch Spot 1 vCPU (+30 s start) ${batch_cost:.6f}"
    )
    return 0 if late_seconds < full_seconds and fits_ok else 1


if __name__ == "__main__":
    sys.exit(main())
