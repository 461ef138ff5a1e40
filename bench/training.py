"""What a TrainingStatus job costs, to choose where it runs (Lambda or Batch).

Times the subject's table on the 11 real SWC_054 sessions computed from scratch and after one late
session (only the dates from it on are recomputed), measures the peak memory of each, and sizes the
packages the job imports (numpy, scipy, pyarrow) against Lambda's 250 MB unzipped limit. Prints a table;
exits non-zero if an incremental run is not cheaper than a full one.

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


def main() -> int:
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
    return 0 if late_seconds < full_seconds else 1


if __name__ == "__main__":
    sys.exit(main())
