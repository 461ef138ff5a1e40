"""mtscomp compression of a SpikeGLX binary, streamed chunk by chunk, written for any mtscomp reader.

The mtscomp 1.0 format (``mtscomp.Writer``) is a JSON header (``.ch``) and a ``.cbin`` of independent
zlib streams, one per chunk of ``chunk_duration`` seconds: each chunk is time-differenced per channel
(its first sample kept), laid out channel by channel (``chunk_order`` F) and deflated. Since a reader
only inflates, any encoder that emits standard zlib streams writes files every mtscomp reader decodes;
we deflate with zlib-ng, which on Neuropixels data matches zlib's ratio several times faster, and spread
the chunks over threads (the codec and numpy release the GIL). The input is read one chunk at a time and
at most ``threads + 1`` chunks are in flight, so memory does not grow with the recording: a few hundred
MB at 30 kHz on two threads, whether the probe holds one GB or a hundred.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import mtscomp
import numpy as np
from tqdm import tqdm
from zlib_ng import zlib_ng

from batch.spikeglx import DTYPE, Meta, SpikeGLXError, read_meta
from chalicelib.errors import OnecloudError

FORMAT_VERSION = "1.0"  # the mtscomp format this module writes, not the mtscomp package version
CHUNK_DURATION = 1.0  # seconds: mtscomp's default, so chunk bounds match files written by mtscomp itself
# zlib-ng level: bench/compress.py measures it beating mtscomp's ratio (zlib 6) for a quarter of the CPU on
# a probe as noisy as labs record; on very quiet data (mtscomp ratio above ~3.5) only level 6 matches zlib 6.
LEVEL = 4
THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

Progress = Callable[[int], None]
"""Called with the number of raw bytes each finished chunk covered (``tqdm.update`` fits)."""


class CompressionMismatch(OnecloudError):
    """A compressed file that does not decode to its raw binary: the output must not be registered."""

    status = 500


def compress(
    raw: BinaryIO | str | Path,
    meta: Meta,
    cbin: BinaryIO,
    *,
    level: int = LEVEL,
    threads: int = THREADS,
    chunk_duration: float = CHUNK_DURATION,
    check: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write ``raw`` compressed to ``cbin`` and return the header that goes in the ``.ch``.

    ``raw`` and ``cbin`` are read and written strictly in order, so they may be network streams (S3
    bodies, multipart uploads). With ``check``, each chunk is inflated again with zlib, the decoder of
    ``mtscomp.Reader``, while it is still in memory, so the writer checks its own output without a
    second pass over the data; turn it off only when :func:`verify` decodes the written file after.
    The binary must hold whole samples and, when its ``.meta`` says so, the samples and SHA1 that
    SpikeGLX recorded: a truncated or altered upload raises :class:`SpikeGLXError` (after writing, as a
    stream's length is known only at its end).
    """
    chunk_samples = int(np.round(chunk_duration * meta.sample_rate))  # mtscomp's rounding
    if chunk_samples <= 0:
        raise ValueError(f"chunk_duration={chunk_duration} s holds no sample at {meta.sample_rate} Hz")
    raw_sha1, cbin_sha1 = hashlib.sha1(), hashlib.sha1()
    bounds, offsets = [0], [0]
    with _opened(raw) as source, ThreadPoolExecutor(threads) as pool:
        in_flight: deque[tuple[int, Future[bytes]]] = deque()

        def write_next() -> None:
            raw_bytes, encoded = in_flight.popleft()
            cbin.write(encoded.result())
            cbin_sha1.update(encoded.result())
            offsets.append(offsets[-1] + len(encoded.result()))
            if progress:
                progress(raw_bytes)

        for chunk in _chunks(source, chunk_samples * meta.bytes_per_sample):
            if len(chunk) % meta.bytes_per_sample:
                raise SpikeGLXError(
                    f"the binary ends {len(chunk) % meta.bytes_per_sample} bytes into a sample: "
                    f"it is not a whole number of {meta.n_channels}-channel int16 samples"
                )
            raw_sha1.update(chunk)
            in_flight.append((len(chunk), pool.submit(_encode_chunk, chunk, meta.n_channels, check, level)))
            bounds.append(bounds[-1] + len(chunk) // meta.bytes_per_sample)
            if len(in_flight) > threads:
                write_next()
        while in_flight:
            write_next()

    n_samples = bounds[-1]
    if n_samples == 0:
        raise SpikeGLXError("the binary is empty")
    if meta.n_samples is not None and meta.n_samples != n_samples:
        raise SpikeGLXError(
            f"the binary holds {n_samples} samples, its .meta's fileSizeBytes {meta.n_samples}"
        )
    if meta.file_sha1 and meta.file_sha1 != raw_sha1.hexdigest():
        raise SpikeGLXError(
            f"the binary's SHA1 {raw_sha1.hexdigest()} is not its .meta's fileSHA1 {meta.file_sha1}"
        )
    return {
        "version": FORMAT_VERSION,
        "algorithm": "zlib",
        "comp_level": level,
        "do_time_diff": True,
        "do_spatial_diff": False,
        "dtype": meta.dtype.name,
        "n_channels": meta.n_channels,
        "sample_rate": float(meta.sample_rate),
        "chunk_bounds": bounds,
        "chunk_offsets": offsets,
        "chunk_order": "F",
        "sha1_compressed": cbin_sha1.hexdigest(),
        "sha1_uncompressed": raw_sha1.hexdigest(),
        "shape": [n_samples, meta.n_channels],
    }


def compress_file(
    bin_path: str | Path,
    meta: Meta | None = None,
    *,
    cbin_path: str | Path | None = None,
    ch_path: str | Path | None = None,
    level: int = LEVEL,
    threads: int = THREADS,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Compress ``x.bin`` into ``x.cbin`` and ``x.ch`` beside it (mtscomp's names), reading ``x.meta``
    when no ``meta`` is given; returns the header."""
    bin_path = Path(bin_path)
    meta = meta or read_meta(bin_path.with_suffix(".meta"))
    cbin_path = Path(cbin_path or bin_path.with_suffix(".cbin"))
    with (
        open(cbin_path, "wb") as cbin,
        tqdm(
            total=bin_path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc="Compressing",
            disable=not show_progress,
        ) as bar,
    ):
        header = compress(bin_path, meta, cbin, level=level, threads=threads, progress=bar.update)
    write_header(header, ch_path or cbin_path.with_suffix(".ch"))
    return header


def write_header(header: dict[str, Any], ch: BinaryIO | str | Path) -> None:
    """Write the ``.ch`` exactly as mtscomp lays it out (sorted keys, two-space indent)."""
    text = json.dumps(header, indent=2, sort_keys=True).encode()
    if isinstance(ch, str | Path):
        Path(ch).write_bytes(text)
    else:
        ch.write(text)


def verify(
    raw: BinaryIO | str | Path,
    cbin: str | Path,
    ch: str | Path | dict[str, Any],
    *,
    threads: int = THREADS,
    progress: Progress | None = None,
) -> None:
    """Decode ``cbin`` with the unmodified ``mtscomp.Reader``, chunk by chunk, and compare it to ``raw``.

    This is the proof a lab's own tools will read the file: every chunk must decode to the raw bytes,
    the raw binary must end where the header says, and both header SHA1s must hold (IBL's tools check
    ``sha1_compressed`` on download). Raises :class:`CompressionMismatch` naming the first fault.
    """
    reader = mtscomp.Reader(cache_size=1, n_threads=threads)
    reader.open(cbin, ch)
    raw_sha1, cbin_sha1 = hashlib.sha1(), hashlib.sha1()
    bytes_per_sample = reader.n_channels * reader.dtype.itemsize
    try:
        with _opened(raw) as source, open(cbin, "rb") as compressed, ThreadPoolExecutor(threads) as pool:
            in_flight: deque[tuple[int, Future[np.ndarray]]] = deque()

            def compare_next() -> None:
                index, decoded = in_flight.popleft()
                i0, i1 = reader.chunk_bounds[index : index + 2]
                expected = _read_exactly(source, (i1 - i0) * bytes_per_sample)
                if len(expected) != (i1 - i0) * bytes_per_sample:
                    raise CompressionMismatch(f"the raw binary ends within chunk {index} of {cbin}")
                raw_sha1.update(expected)
                try:
                    matches = np.array_equal(
                        decoded.result(), np.frombuffer(expected, reader.dtype).reshape(-1, reader.n_channels)
                    )
                except (OSError, ValueError, AssertionError) as error:
                    raise CompressionMismatch(f"chunk {index} of {cbin} does not decode: {error}") from error
                if not matches:
                    raise CompressionMismatch(
                        f"chunk {index} of {cbin} decodes to other samples than the raw binary"
                    )
                if progress:
                    progress(len(expected))

            for index, start, length in reader.iter_chunks():
                cbin_sha1.update(_read_exactly(compressed, length))
                in_flight.append((index, pool.submit(reader.read_chunk, index, start, length)))
                if len(in_flight) > threads:
                    compare_next()
            while in_flight:
                compare_next()
            if source.read(1):
                raise CompressionMismatch(
                    f"the raw binary goes on past the {reader.n_samples} samples of {cbin}"
                )
            if compressed.read(1):
                raise CompressionMismatch(f"{cbin} goes on past its last chunk")
    finally:
        reader.close()
    for name, digest in (("sha1_compressed", cbin_sha1), ("sha1_uncompressed", raw_sha1)):
        if reader.cmeta.get(name) != digest.hexdigest():
            raise CompressionMismatch(
                f"the header's {name} is not the SHA1 of the data ({digest.hexdigest()})"
            )


def _encode_chunk(chunk: bytes, n_channels: int, check: bool, level: int) -> bytes:
    diffs = time_diff_by_channel(np.frombuffer(chunk, DTYPE).reshape(-1, n_channels))
    encoded = zlib_ng.compress(diffs, level)
    if check:
        try:
            inflated = np.frombuffer(zlib.decompress(encoded), DTYPE)
        except zlib.error as error:
            raise CompressionMismatch(f"a chunk does not inflate: {error}") from error
        if not np.array_equal(inflated, diffs.ravel()):
            raise CompressionMismatch("a chunk does not inflate back to its samples")
    return encoded


def time_diff_by_channel(samples: np.ndarray, block: int = 256) -> np.ndarray:
    """mtscomp's transform of a ``(n_samples, n_channels)`` chunk, as a ``(n_channels, n_samples)`` array.

    Each channel's first sample, then its successive differences (wrapping in int16 like numpy's diff):
    the C-order bytes of the result are mtscomp's ``diff_along_axis(chunk, 0).tobytes(order="F")``.
    Done a block of samples at a time so the transposition stays in cache (10x faster than mtscomp).
    """
    n_samples = samples.shape[0]
    diffs = np.empty(samples.shape[::-1], samples.dtype)
    diffs[:, 0] = samples[0]
    for start in range(1, n_samples, block):
        stop = min(start + block, n_samples)
        np.subtract(samples[start:stop], samples[start - 1 : stop - 1], out=diffs[:, start:stop].T)
    return diffs


def _chunks(source: BinaryIO, size: int) -> Iterator[bytes]:
    while chunk := _read_exactly(source, size):
        yield chunk


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """``size`` bytes, or fewer only at the end: network streams return short reads mid-stream."""
    pieces = []
    while size > 0 and (piece := source.read(size)):
        pieces.append(piece)
        size -= len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


@contextlib.contextmanager
def _opened(raw: BinaryIO | str | Path) -> Iterator[BinaryIO]:
    if isinstance(raw, str | Path):
        with open(raw, "rb", buffering=0) as source:
            yield source
    else:
        yield raw
