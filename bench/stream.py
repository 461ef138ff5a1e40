"""Benchmark streaming reads against a full download with ONE, on the local stack.

    .venv/bin/python bench/stream.py [--minutes 10] [--start 300.5] [--repeats 3]

A synthetic Neuropixels 1.0 AP band (385 channels at 30 kHz, ``bench/compress.py``'s signal made 32x
quieter so that moto can hold the file, see ``QUIETER_BITS``) is compressed with the compression job's
compressor in 1-second chunks; the recording is ``--minutes`` long (10 by default: 13.9 GB raw, 1.3 GB
compressed): the compressed chunks of the first 10 seconds are repeated, which gives a valid mtscomp file
of that length at the cost of compressing 10 seconds (only the chunk table and the bytes' positions
matter for reading a window). A lab member uploads it with ``onecloud upload`` to a
local stack (the lab runs its own task workers, so nothing sorts it meanwhile), then the same 1-second
window is read:

- with ``onecloud.stream`` (header and ``.meta`` fetched, then Range requests for the chunks covering
  the window), from a cold start each time (no cached header);
- with ONE's ``load_dataset`` (the ``.cbin`` and ``.ch`` downloaded whole, as ONE does), then
  ``mtscomp.Reader`` on the downloaded file.

Both return the same samples (checked). Reported: bytes transferred (target: the chunks covering the
window plus the ``.ch`` and ``.meta``, nothing more) and time to the first sample; the headline is the
ratio ONE / stream. The script exits non-zero if streaming moved more than the target or got different
samples.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mtscomp
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.compress import SAMPLE_RATE, synthesize  # noqa: E402
from tests.localstack import As, running  # noqa: E402

LAB, SUBJECT, DAY, MEMBER, PASSWORD = "benchlab", "BENCH001", "2024-07-01", "bencher", "bench-password"
STEM = "_spikeglx_ephysData_g0_t0.imec0.ap"
NP1_META = ROOT / "tests/fixtures/spikeglx/sample3B_version202304.ap.meta"
SECONDS_COMPRESSED = 10
# moto holds a multipart upload's parts and the whole object in memory to complete it, and reads the whole
# object for every GET: at the signal's own level the 4.4 GB file needs ~16 GB of moto memory (it was
# OOM-killed on this machine), so the signal is 32x quieter, which shrinks every chunk alike.
QUIETER_BITS = 5


def write_recording(folder: Path, minutes: float, quieter_bits: int = QUIETER_BITS) -> None:
    """``minutes`` of a 385-channel probe, compressed in 1-second chunks, with its ``.meta``; the
    signal is divided by ``2 ** quieter_bits`` (see the module's docstring)."""
    from batch.compress import compress_file
    from batch.spikeglx import parse_meta

    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{STEM}.bin"
    synthesize(raw, SECONDS_COMPRESSED)
    samples = np.memmap(raw, dtype="<i2", mode="r+")
    samples >>= quieter_bits
    samples.flush()
    del samples
    n_seconds = int(round(minutes * 60))
    unit_meta = _meta(SECONDS_COMPRESSED * SAMPLE_RATE)
    small = compress_file(
        raw, parse_meta(unit_meta), cbin_path=folder / "ten.cbin", ch_path=folder / "ten.ch"
    )
    raw.unlink()
    block = (folder / "ten.cbin").read_bytes()
    repeats = -(-n_seconds // SECONDS_COMPRESSED)
    per_chunk_bounds = np.diff(small["chunk_bounds"])
    per_chunk_bytes = np.diff(small["chunk_offsets"])
    bounds = np.concatenate([[0], np.cumsum(np.tile(per_chunk_bounds, repeats))])
    offsets = np.concatenate([[0], np.cumsum(np.tile(per_chunk_bytes, repeats))])
    cbin = folder / f"{STEM}.cbin"
    with open(cbin, "wb") as out:
        for _ in range(repeats):
            out.write(block)
    header = {**small, "chunk_bounds": bounds.tolist(), "chunk_offsets": offsets.tolist()}
    header.update(sha1_compressed=None, sha1_uncompressed=None, shape=[int(bounds[-1]), small["n_channels"]])
    ch = folder / f"{STEM}.ch"
    ch.write_text(json.dumps(header))
    meta = folder / f"{STEM}.meta"
    meta.write_text(_meta(int(bounds[-1])))
    for name in ("ten.cbin", "ten.ch"):
        (folder / name).unlink()


def _meta(n_samples: int) -> str:
    values = dict(line.split("=", 1) for line in NP1_META.read_text().splitlines() if "=" in line)
    values.pop("fileSHA1")
    values.update(fileSizeBytes=str(int(n_samples) * 385 * 2), fileTimeSecs=str(n_samples / SAMPLE_RATE))
    return "".join(f"{key}={value}\n" for key, value in values.items())


def setup(url: str, session_dir: Path) -> str:
    root = As(url)
    root("POST", "/labs", status=201, json={"name": LAB, "json": {"task_runner": "lab"}})
    root("POST", "/users", status=201, json={"username": MEMBER, "password": PASSWORD, "lab": [LAB]})
    root("POST", "/subjects", status=201, json={"nickname": SUBJECT, "lab": LAB})
    env = {**os.environ, "ONECLOUD_URL": url, "ONECLOUD_USERNAME": MEMBER, "ONECLOUD_PASSWORD": PASSWORD}
    started = time.perf_counter()
    for _ in range(3):  # completing a 4 GB multipart upload can outlast a request on a busy machine: resume
        done = subprocess.run(
            [str(ROOT / ".venv/bin/onecloud"), "upload", str(session_dir), "--lab", LAB, "--timeout", "1800"],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            break
        print(f"upload incomplete, resuming:\n{done.stdout}", flush=True)
    else:
        raise SystemExit(f"upload failed:\n{done.stdout}\n{done.stderr}")
    print(f"uploaded in {time.perf_counter() - started:.0f} s", flush=True)
    (session,) = root("GET", f"/sessions?subject={SUBJECT}&date_range={DAY}")["results"]
    return session["id"]


def stream_window(url: str, eid: str, start: float) -> tuple[np.ndarray, dict]:
    from onecloud import stream
    from onecloud.client import Api

    api = Api(url)
    api.log_in(MEMBER, PASSWORD)  # logged in beforehand, as ONE is below
    began = time.perf_counter()
    with stream.open_probe(eid, "probe00", api=api, headers=None) as recording:
        window = recording.read_seconds(start, 1.0, volts=False)
        elapsed = time.perf_counter() - began
        first, stop = recording.samples(start, 1.0)
        chunks = recording.header.chunks_for(first, stop)
        chunk_bytes = (
            recording.header.chunk_offsets[chunks[-1] + 1] - recording.header.chunk_offsets[chunks[0]]
        )
        moved = recording.transfer
    return window, {
        "seconds": elapsed,
        "bytes": moved.bytes,
        "requests": moved.requests,
        "chunks": len(chunks),
        "chunk_bytes": chunk_bytes,
    }


def one_window(url: str, eid: str, start: float, cache: Path) -> tuple[np.ndarray, dict]:
    from one.api import ONE

    one = ONE(
        base_url=url, username=MEMBER, password=PASSWORD, silent=True, cache_dir=cache, mode="remote",
        cache_rest=None,
    )  # fmt: skip
    one.alyx._par = (
        one.alyx._par.set("HTTP_DATA_SERVER", url)
        .set("HTTP_DATA_SERVER_LOGIN", MEMBER)
        .set("HTTP_DATA_SERVER_PWD", PASSWORD)
    )
    began = time.perf_counter()
    paths = [
        one.load_dataset(eid, f"{STEM}.{suffix}", collection="raw_ephys_data/probe00", download_only=True)
        for suffix in ("cbin", "ch")
    ]
    reader = mtscomp.Reader(check_after_decompress=False, quiet=True)
    reader.open(paths[0], paths[1])
    first = round(start * reader.sample_rate)
    window = reader[first : first + round(reader.sample_rate)]
    elapsed = time.perf_counter() - began
    moved = sum(Path(p).stat().st_size for p in paths)
    reader.close()
    return window, {"seconds": elapsed, "bytes": moved, "requests": len(paths)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--start", type=float, default=300.5, help="the window's start, seconds")
    parser.add_argument("--repeats", type=int, default=3, help="streamed reads (cold each time)")
    parser.add_argument(
        "--recording", type=Path, help="keep the written recording in this folder, and reuse it"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as folder:
        work = Path(folder)
        session_dir = work / LAB / "Subjects" / SUBJECT / DAY / "001"
        probe_dir = session_dir / "raw_ephys_data" / "probe00"
        began = time.perf_counter()
        if not (args.recording and (args.recording / f"{STEM}.ch").exists()):
            write_recording(args.recording or probe_dir, args.minutes)
        if args.recording:  # linked into the session folder (hard links: the upload lists real files)
            probe_dir.mkdir(parents=True)
            for suffix in ("cbin", "ch", "meta"):
                os.link(args.recording / f"{STEM}.{suffix}", probe_dir / f"{STEM}.{suffix}")
        cbin, ch, meta = (probe_dir / f"{STEM}.{suffix}" for suffix in ("cbin", "ch", "meta"))
        size = cbin.stat().st_size
        took = time.perf_counter() - began
        print(f"wrote {args.minutes:g} min, {size / 1e9:.2f} GB compressed in {took:.0f} s", flush=True)
        reference = mtscomp.Reader(check_after_decompress=False, quiet=True)
        reference.open(cbin, ch)
        first = round(args.start * reference.sample_rate)
        expected = reference[first : first + round(reference.sample_rate)]
        reference.close()
        header_bytes = ch.stat().st_size + meta.stat().st_size
        (work / "state").mkdir()
        stack_runs = running(work / "state", ONECLOUD_STATE_DIR="")  # no snapshots of a 4 GB object
        stack = next(stack_runs)
        try:
            eid = setup(stack.url, session_dir)
            if not args.recording:
                cbin.unlink()  # the local copy is no longer needed: free the disk for ONE's download
            streamed = []
            for _ in range(args.repeats):
                window, figures = stream_window(stack.url, eid, args.start)
                assert np.array_equal(window, expected), "streamed samples differ from mtscomp's"
                streamed.append(figures)
            window, full = one_window(stack.url, eid, args.start, work / "one")
            assert np.array_equal(window, expected), "ONE's samples differ from mtscomp's"
        finally:
            next(stack_runs, None)
    return report(args, size, header_bytes, streamed, full)


def report(args, size: int, header_bytes: int, streamed: list[dict], full: dict) -> int:
    seconds = statistics.median(s["seconds"] for s in streamed)
    moved = streamed[0]["bytes"]
    target = streamed[0]["chunk_bytes"] + header_bytes
    print()
    print(f"1-second window at {args.start:g} s of a {args.minutes:g}-minute, 385-channel recording "
          f"({size / 1e9:.2f} GB compressed), local stack")  # fmt: skip
    print()
    print("| read | bytes transferred | requests | time to first sample (s) |")
    print("|---|---|---|---|")
    print(f"| `onecloud.stream` (median of {len(streamed)}, cold) | {moved / 1e6:.2f} MB | "
          f"{streamed[0]['requests']} | {seconds:.2f} |")  # fmt: skip
    print(f"| ONE `load_dataset` (.cbin + .ch), then mtscomp | {full['bytes'] / 1e6:.1f} MB | "
          f"{full['requests']} files | {full['seconds']:.1f} |")  # fmt: skip
    print()
    print(f"target bytes: the {streamed[0]['chunks']} chunks covering the window "
          f"({streamed[0]['chunk_bytes'] / 1e6:.2f} MB) + .ch and .meta ({header_bytes / 1e3:.1f} kB) = "
          f"{target / 1e6:.2f} MB: {'met' if moved <= target else 'MISSED'}")  # fmt: skip
    print(f"headline: {full['bytes'] / moved:.0f}x fewer bytes, {full['seconds'] / seconds:.1f}x sooner "
          f"to the first sample than ONE's full download")  # fmt: skip
    return 0 if all(s["bytes"] <= target for s in streamed) else 1


if __name__ == "__main__":
    sys.exit(main())
