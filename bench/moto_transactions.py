"""What a transactional write costs the local stack's moto as tables fill, with and without
onecloud/moto_transactions.py.

Each write is what onecloud's guarded saves send: a Put of the record and a Put of its guard with
``attribute_not_exists``, in one TransactWriteItems. The script fills the tables to each size and times
the next 50 writes, in a fresh process per variant (the patch is process-wide). Target: with the patch
a write costs the same at 2,000 items as at 200 (ratio <= 2); moto's own copy grows with the table.

    .venv/bin/python bench/moto_transactions.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
SIZES = (200, 800, 2000)
TIMED = 50


def measure(patched: bool) -> dict[int, float]:
    import boto3
    from moto import mock_aws

    if patched:
        from onecloud.moto_transactions import apply

        apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("records", "guards"):
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )

        def write(n: int) -> None:
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "records", "Item": {"id": {"S": f"r{n}"}, "n": {"N": str(n)}}}},
                    {
                        "Put": {
                            "TableName": "guards",
                            "Item": {"id": {"S": f"g{n}"}},
                            "ConditionExpression": "attribute_not_exists(id)",
                        }
                    },
                ]
            )

        written, seconds = 0, {}
        for size in SIZES:
            while written < size:
                write(written)
                written += 1
            started = time.perf_counter()
            for _ in range(TIMED):
                write(written)
                written += 1
            seconds[size] = (time.perf_counter() - started) / TIMED
        return seconds


def main() -> int:
    if len(sys.argv) == 2:
        print(json.dumps(measure(sys.argv[1] == "patched")))
        return 0
    results = {}
    for variant in ("moto", "patched"):
        out = subprocess.run([sys.executable, __file__, variant], capture_output=True, text=True, check=True)
        results[variant] = {int(k): v for k, v in json.loads(out.stdout).items()}
    print("| items per table | moto's copy (ms/write) | patched (ms/write) |")
    print("|---|---|---|")
    for size in SIZES:
        print(f"| {size} | {results['moto'][size] * 1000:.1f} | {results['patched'][size] * 1000:.1f} |")
    growth = results["patched"][SIZES[-1]] / results["patched"][SIZES[0]]
    print(f"\npatched: a write at {SIZES[-1]} items costs {growth:.2f}x one at {SIZES[0]} (target <= 2)")
    return 0 if growth <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
