"""Tests for batch.compress: streamed mtscomp compression that the unmodified mtscomp reader decodes.

Recordings are small and synthetic (385 int16 channels at the LF band's 2500 Hz, so a one-second chunk is
1.9 MB and mtscomp itself runs in a blink), with the int16 extremes in them so time differences wrap.
Every file written is decoded with ``mtscomp.Reader`` as published, and headers are compared with what
``mtscomp.compress`` writes for the same binary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import mtscomp
import numpy as np
import pytest
from zlib_ng import zlib_ng

from batch.compress import (
    CompressionMismatch,
    compress,
    compress_file,
    time_diff_by_channel,
    verify,
    write_header,
)
from batch.spikeglx import Band, Meta, Probe, SpikeGLXError, read_meta

FIXTURES = Path(__file__).parent / "fixtures" / "spikeglx"
LF_META = dataclasses.replace(
    read_meta(FIXTURES / "sample3B_g0_t0.imec1.lf.meta"), n_samples=None, file_sha1=None
)
CHUNK_SAMPLES = 2500  # round(1 s * 2500.03 Hz)
CHUNK_BYTES = CHUNK_SAMPLES * 385 * 2


def recording(n_samples: int, seed: int = 0) -> np.ndarray:
    """A synthetic LF-band probe: correlated noise around per-channel offsets, a sync channel, and the int16
    extremes side by side on one channel so that its time differences overflow."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(-300, 300, 385)
    noise = np.cumsum(rng.integers(-3, 4, (n_samples, 385)), axis=0) + rng.normal(0, 12, (n_samples, 385))
    samples = np.clip(np.round(noise) + offsets, -32768, 32767).astype(np.int16)
    samples[:, 384] = (np.arange(n_samples) // 700) % 2
    samples[1::2, 7] = 32767
    samples[::2, 7] = -32768
    return samples


def write_recording(folder: Path, n_samples: int, seed: int = 0) -> Path:
    path = folder / "probe.lf.bin"
    path.write_bytes(recording(n_samples, seed).tobytes())
    return path


def compressed(bin_path: Path, meta: Meta = LF_META, **options: Any) -> tuple[Path, Path, dict[str, Any]]:
    cbin, ch = bin_path.with_suffix(".cbin"), bin_path.with_suffix(".ch")
    with open(cbin, "wb") as out:
        header = compress(bin_path, meta, out, **options)
    write_header(header, ch)
    return cbin, ch, header


def mtscomp_header(bin_path: Path, folder: Path) -> dict[str, Any]:
    cbin, ch = folder / "mtscomp.cbin", folder / "mtscomp.ch"
    mtscomp.compress(
        bin_path,
        cbin,
        ch,
        sample_rate=LF_META.sample_rate,
        n_channels=385,
        dtype="int16",
        n_threads=2,
        quiet=True,
    )
    return json.loads(ch.read_text())


LENGTHS = {
    "whole chunks": 3 * CHUNK_SAMPLES,
    "a partial last chunk": 3 * CHUNK_SAMPLES + 1234,
    "less than a chunk": 700,
    "one sample": 1,
}


@pytest.mark.parametrize("n_samples", LENGTHS.values(), ids=list(LENGTHS))
def test_the_compressed_file_decodes_byte_exactly_with_the_unmodified_mtscomp_reader(
    tmp_path: Path, n_samples: int
) -> None:
    bin_path = write_recording(tmp_path, n_samples)
    cbin, ch, _ = compressed(bin_path)

    mtscomp.decompress(cbin, ch, out=tmp_path / "decoded.bin", quiet=True).close()

    assert (tmp_path / "decoded.bin").read_bytes() == bin_path.read_bytes()


@pytest.mark.parametrize("n_samples", LENGTHS.values(), ids=list(LENGTHS))
def test_the_header_is_what_mtscomp_writes_for_the_same_binary_but_for_the_compressed_bytes(
    tmp_path: Path, n_samples: int
) -> None:
    bin_path = write_recording(tmp_path, n_samples)
    cbin, ch, header = compressed(bin_path)
    theirs = mtscomp_header(bin_path, tmp_path)

    encoder_specific = {"chunk_offsets", "sha1_compressed", "comp_level"}
    assert {k: v for k, v in header.items() if k not in encoder_specific} == {
        k: v for k, v in theirs.items() if k not in encoder_specific
    }
    assert header["chunk_offsets"][-1] == cbin.stat().st_size
    assert header["sha1_compressed"] == hashlib.sha1(cbin.read_bytes()).hexdigest()
    as_mtscomp_lays_it_out = io.BytesIO()
    write_header({**header, **{k: theirs[k] for k in encoder_specific}}, as_mtscomp_lays_it_out)
    assert as_mtscomp_lays_it_out.getvalue() == (tmp_path / "mtscomp.ch").read_bytes()


def test_the_header_has_the_fields_and_types_of_a_real_mtscomp_header(tmp_path: Path) -> None:
    real = json.loads((FIXTURES / "np24_split.imec0.ap.ch").read_text())
    *_, header = compressed(write_recording(tmp_path, 100))

    assert {k: type(v) for k, v in header.items()} == {k: type(v) for k, v in real.items()}


def test_the_output_is_smaller_than_mtscomps(tmp_path: Path) -> None:
    bin_path = write_recording(tmp_path, 2 * CHUNK_SAMPLES)
    cbin, *_ = compressed(bin_path)

    assert cbin.stat().st_size <= mtscomp_header(bin_path, tmp_path)["chunk_offsets"][-1]


def test_the_output_does_not_depend_on_the_thread_count(tmp_path: Path) -> None:
    bin_path = write_recording(tmp_path, 5 * CHUNK_SAMPLES + 17)
    outputs = []
    for threads in (1, 3):
        cbin, *_ = compressed(bin_path, threads=threads)
        outputs.append(cbin.read_bytes())

    assert outputs[0] == outputs[1]


class CountingReader(io.RawIOBase):
    """A binary stream that answers at most ``most`` bytes a read, like a socket, and records the reads."""

    def __init__(self, data: bytes, most: int | None = None) -> None:
        self.source, self.most, self.largest_request = io.BytesIO(data), most, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "read everything at once"
        self.largest_request = max(self.largest_request, size)
        return self.source.read(min(size, self.most or size))


class Sink(io.RawIOBase):
    """A writable stream that keeps only a digest, so the output takes no memory."""

    def __init__(self) -> None:
        self.digest = hashlib.sha1()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)


def test_the_binary_is_read_one_chunk_at_a_time() -> None:
    source = CountingReader(recording(4 * CHUNK_SAMPLES).tobytes())

    compress(source, LF_META, Sink())

    assert source.largest_request == CHUNK_BYTES


def test_a_stream_of_short_reads_compresses_to_the_same_file() -> None:
    data = recording(2 * CHUNK_SAMPLES + 99).tobytes()
    whole, trickled = Sink(), Sink()

    assert compress(io.BytesIO(data), LF_META, whole) == compress(
        CountingReader(data, most=65536), LF_META, trickled
    )
    assert whole.digest.digest() == trickled.digest.digest()


@pytest.mark.parametrize("threads", [1, 2])
def test_peak_memory_does_not_grow_with_the_recording(threads: int) -> None:
    chunk_bytes = CHUNK_BYTES // 5
    data = recording(48 * CHUNK_SAMPLES // 5).tobytes()
    peaks = []
    for n_chunks in (8, 48):
        source = CountingReader(data[: n_chunks * chunk_bytes])
        tracemalloc.start()
        compress(source, LF_META, Sink(), threads=threads, chunk_duration=0.2)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()

    short, long = peaks
    # One worker: the peak is the same whatever the length. More: how the workers' steps overlap in time
    # varies between runs, so the bound is what the chunks in flight can hold: threads + 2 raw chunks
    # (queued, or being read) and in each worker a chunk's differences, deflate output and check.
    if threads == 1:
        assert long <= 1.1 * short + 256 * 1024
    assert long <= (2 + 6 * threads) * chunk_bytes + 512 * 1024


def test_progress_is_reported_for_every_raw_byte(tmp_path: Path) -> None:
    bin_path = write_recording(tmp_path, 3 * CHUNK_SAMPLES + 5)
    reports: list[int] = []

    compressed(bin_path, progress=reports.append)

    assert sum(reports) == bin_path.stat().st_size
    assert len(reports) == 4


def test_compress_file_writes_cbin_and_ch_beside_the_bin_from_its_meta(tmp_path: Path) -> None:
    bin_path = write_recording(tmp_path, CHUNK_SAMPLES + 3)
    data = bin_path.read_bytes()
    meta_text = (FIXTURES / "sample3B_g0_t0.imec1.lf.meta").read_text()
    meta_text = meta_text.replace("fileSizeBytes=1587113990", f"fileSizeBytes={len(data)}")
    meta_text = meta_text.replace(
        "B42FFA9796A7E17FA9B3BE4BA7A223B942724AC7", hashlib.sha1(data).hexdigest().upper()
    )
    bin_path.with_suffix(".meta").write_text(meta_text)

    header = compress_file(bin_path)

    assert json.loads(bin_path.with_suffix(".ch").read_text()) == header
    verify(bin_path, bin_path.with_suffix(".cbin"), bin_path.with_suffix(".ch"))


@pytest.mark.parametrize(
    ("data", "meta", "message"),
    [
        (b"", LF_META, "empty"),
        (recording(10).tobytes() + b"\x01", LF_META, "whole number"),
        (recording(10).tobytes(), dataclasses.replace(LF_META, n_samples=11), "holds 10 samples"),
        (recording(10).tobytes(), dataclasses.replace(LF_META, file_sha1="0" * 40), "fileSHA1"),
    ],
    ids=["empty", "partial sample", "shorter than its meta", "sha1 not its meta's"],
)
def test_a_binary_that_does_not_match_its_meta_is_refused(data: bytes, meta: Meta, message: str) -> None:
    with pytest.raises(SpikeGLXError, match=message):
        compress(io.BytesIO(data), meta, Sink())


def test_a_chunk_that_does_not_inflate_back_is_caught_while_compressing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(zlib_ng, "compress", lambda data, level: zlib.compress(b"something else"))

    with pytest.raises(CompressionMismatch, match="inflate"):
        compress(io.BytesIO(recording(10).tobytes()), LF_META, Sink())


def test_verify_accepts_what_compress_wrote_and_reports_every_byte(tmp_path: Path) -> None:
    bin_path = write_recording(tmp_path, 3 * CHUNK_SAMPLES + 5)
    cbin, ch, header = compressed(bin_path)
    reports: list[int] = []

    verify(bin_path, cbin, ch, progress=reports.append)
    verify(io.BytesIO(bin_path.read_bytes()), cbin, header)

    assert sum(reports) == bin_path.stat().st_size


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_detects_a_corrupted_chunk_and_names_it(tmp_path: Path) -> None:
    cbin, ch, header = compressed(write_recording(tmp_path, 3 * CHUNK_SAMPLES))
    start, stop = header["chunk_offsets"][1:3]
    _flip_byte(cbin, (start + stop) // 2)

    with pytest.raises(CompressionMismatch, match="chunk 1"):
        verify(tmp_path / "probe.lf.bin", cbin, ch)


def test_verify_detects_a_raw_binary_that_differs_by_one_sample(tmp_path: Path) -> None:
    bin_path = write_recording(tmp_path, 3 * CHUNK_SAMPLES)
    cbin, ch, _ = compressed(bin_path)
    _flip_byte(bin_path, 2 * CHUNK_BYTES + 1000)

    with pytest.raises(CompressionMismatch, match="chunk 2"):
        verify(bin_path, cbin, ch)


@pytest.mark.parametrize(
    ("raw_edit", "header_edit", "message"),
    [
        (b"\x00" * 770, {}, "goes on past"),
        (b"", {"sha1_compressed": "0" * 40}, "sha1_compressed"),
        (b"", {"sha1_uncompressed": "0" * 40}, "sha1_uncompressed"),
    ],
    ids=["raw longer than the header", "wrong sha1_compressed", "wrong sha1_uncompressed"],
)
def test_verify_detects_a_header_that_does_not_describe_the_data(
    tmp_path: Path, raw_edit: bytes, header_edit: dict, message: str
) -> None:
    bin_path = write_recording(tmp_path, 2 * CHUNK_SAMPLES)
    cbin, _, header = compressed(bin_path)

    with pytest.raises(CompressionMismatch, match=message):
        verify(io.BytesIO(bin_path.read_bytes() + raw_edit), cbin, {**header, **header_edit})


def test_verify_detects_a_raw_binary_shorter_than_the_header(tmp_path: Path) -> None:
    bin_path = write_recording(tmp_path, 2 * CHUNK_SAMPLES)
    cbin, ch, _ = compressed(bin_path)

    with pytest.raises(CompressionMismatch, match="ends within chunk 1"):
        verify(io.BytesIO(bin_path.read_bytes()[:-770]), cbin, ch)


@pytest.mark.parametrize("n_samples", [1, 2, 255, 256, 257, 1000])
def test_time_diff_by_channel_is_mtscomps_transform_in_channel_order(n_samples: int) -> None:
    samples = recording(n_samples, seed=n_samples)

    expected = mtscomp.diff_along_axis(samples, axis=0).tobytes(order="F")

    assert time_diff_by_channel(samples).tobytes() == expected


def test_a_meta_from_a_real_rig_drives_the_chunking(tmp_path: Path) -> None:
    ap = dataclasses.replace(
        read_meta(FIXTURES / "sample3B_g0_t0.imec1.ap.meta"), n_samples=None, file_sha1=None
    )
    assert (ap.band, ap.probe) == (Band.AP, Probe.NP1)

    *_, header = compressed(write_recording(tmp_path, 100), ap, chunk_duration=0.001)

    assert header["chunk_bounds"] == [0, 30, 60, 90, 100]
    assert header["sample_rate"] == 30000.390639481
