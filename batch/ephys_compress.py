"""EphysCompress: a probe's raw ``.ap.bin`` becomes mtscomp ``.cbin`` + ``.ch``, streamed from and to S3.

The raw file is read once to compress (each chunk checked as it is written) and once more to verify
the written file with the unmodified ``mtscomp.Reader``; only then are the outputs uploaded. The raw
file is never deleted here: with the ``archive`` raw policy it is tagged for cheaper storage once its
compressed copy is registered with the content verified.
"""

from __future__ import annotations

import sys

from batch import compress
from batch.jobs import Job, run
from batch.spikeglx import parse_meta
from chalicelib import aws

RAW_TAG = {"Key": "onecloud:raw", "Value": "compressed"}


def compress_probe(job: Job) -> None:
    raw, meta_file = job.dataset("*.ap.bin"), job.dataset("*.ap.meta")
    meta = parse_meta(job.open(meta_file).read().decode())
    stem = raw.name[: -len(".bin")]
    cbin_path, ch_path = job.workdir / f"{stem}.cbin", job.workdir / f"{stem}.ch"
    print(
        f"compressing {raw.relative_path}: {meta.n_channels} channels at {meta.sample_rate:g} Hz", flush=True
    )
    with open(cbin_path, "wb") as cbin:
        header = compress.compress(job.open(raw), meta, cbin, progress=None)
    compress.write_header(header, ch_path)
    compress.verify(job.open(raw), cbin_path, header)
    ratio = (raw.file_size or 0) / max(cbin_path.stat().st_size, 1)
    print(f"verified with mtscomp.Reader: {header['shape'][0]} samples, ratio {ratio:.2f}", flush=True)
    folder = f"{job.collection}/" if job.collection else ""
    outputs = {f"{folder}{stem}.cbin": cbin_path, f"{folder}{stem}.ch": ch_path}
    md5s = {relative: job.upload(path, relative) for relative, path in outputs.items()}
    if aws.settings().raw_policy == "archive":
        for relative, md5 in md5s.items():
            job.wait_registered(relative, md5)
        aws.client("s3").put_object_tagging(
            Bucket=aws.settings().data_bucket, Key=job.key(raw.relative_path), Tagging={"TagSet": [RAW_TAG]}
        )
        print(
            f"tagged {raw.relative_path} {RAW_TAG['Key']}={RAW_TAG['Value']} for cheaper storage", flush=True
        )


if __name__ == "__main__":
    sys.exit(run(compress_probe))
