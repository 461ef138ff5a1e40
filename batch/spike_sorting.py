"""SpikeSorting: a probe's compressed recording sorted with SpikeInterface; IBL's ALF spike tables are
written under ``alf/<probe>/<sorter>/`` and registered by the event path like any upload."""

from __future__ import annotations

import sys

from batch.jobs import Job, run
from batch.sorting import sort_recording
from chalicelib import aws


def sort_probe(job: Job) -> None:
    probe = (job.task.arguments or {}).get("probe") or job.collection.rsplit("/", 1)[-1]
    inputs = {suffix: job.download(job.dataset(f"*.ap.{suffix}")) for suffix in ("cbin", "ch", "meta")}
    sorter = aws.settings().sorter
    print(f"sorting {job.collection} with {sorter}", flush=True)
    outputs = sort_recording(
        inputs["cbin"],
        inputs["ch"],
        inputs["meta"],
        job.workdir / "alf",
        sorter=sorter,
        work_dir=job.workdir / "sorter",
        progress=False,
    )
    for path in outputs:
        job.upload(path, f"alf/{probe}/{sorter}/{path.name}")


if __name__ == "__main__":
    sys.exit(run(sort_probe))
