"""Tests for batch.spikeglx: reading SpikeGLX .meta files as real rigs wrote them.

Every fixture is a .meta recorded by a real rig (from ibl-neuropixel's test fixtures): each generation of
probe, both bands, the NI-DAQ stream, and a file copied while SpikeGLX was still acquiring. Errors are
checked to name the key at fault.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from batch.spikeglx import Band, Meta, Probe, SpikeGLXError, key_values, parse_meta, read_meta
from chalicelib.errors import BadRequest

FIXTURES = Path(__file__).parent / "fixtures" / "spikeglx"

# file: n_channels, sample_rate, band, probe, n_sync_channels, n_samples (fileSizeBytes / 2 / n_channels)
REAL_META = {
    "sample3A_g0_t0.imec.ap.meta": (385, 30000.0, Band.AP, Probe.NP3A, 1, 47056104),
    "sample3B_g0_t0.imec1.ap.meta": (385, 30000.390639481, Band.AP, Probe.NP1, 1, 24734244),
    "sample3B_g0_t0.imec1.lf.meta": (385, 2500.0325532900833, Band.LF, Probe.NP1, 1, 2061187),
    "sample3B_g0_t0.nidq.meta": (2, 30003.0003, Band.NIDQ, None, 1, 24736317),
    "sample3B_version202304.ap.meta": (385, 30000.0, Band.AP, Probe.NP1, 1, 126124286),
    "sampleNP2.1_g0_t0.imec.ap.meta": (385, 30000.0, Band.AP, Probe.NP2_1, 1, 90000),
    "sampleNP2.4_4shanks_g0_t0.imec.ap.meta": (385, 29999.757983, Band.AP, Probe.NP2_4, 1, 90000),
    "sampleNP2.4_4shanks_while_acquiring_incomplete.ap.meta": (385, 30000.0, Band.AP, Probe.NP2_4, 1, None),
    "sampleNPultra_g0_t0.imec0.ap.meta": (385, 30000.0, Band.AP, Probe.NP_ULTRA, 1, 121209192),
}


def test_every_real_fixture_is_in_the_table() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.meta")) == sorted(REAL_META)


@pytest.mark.parametrize(("name", "expected"), REAL_META.items(), ids=list(REAL_META))
def test_a_real_meta_file_reads_into_its_channels_rate_band_probe_sync_and_length(
    name: str, expected: tuple
) -> None:
    meta = read_meta(FIXTURES / name)

    n_channels, sample_rate, band, probe, n_sync_channels, n_samples = expected
    assert (meta.n_channels, meta.sample_rate, meta.band, meta.probe) == (
        n_channels,
        sample_rate,
        band,
        probe,
    )
    assert (meta.n_sync_channels, meta.n_samples) == (n_sync_channels, n_samples)
    assert meta.has_sync
    assert meta.sync_channels == range(n_channels - 1, n_channels)
    assert meta.dtype.name == "int16"
    assert meta.bytes_per_sample == 2 * n_channels


def test_a_meta_copied_while_acquiring_has_no_length_and_no_sha1() -> None:
    meta = read_meta(FIXTURES / "sampleNP2.4_4shanks_while_acquiring_incomplete.ap.meta")

    assert meta.n_samples is None
    assert meta.file_sha1 is None
    assert "fileSizeBytes" not in meta.values


def test_the_recorded_sha1_is_kept_in_lower_case_as_hashlib_prints_it() -> None:
    meta = read_meta(FIXTURES / "sample3B_g0_t0.imec1.ap.meta")

    assert meta.file_sha1 == "1bf3219c35dea15409576f6764dd9152c3f8a89c"


def test_keys_keep_their_tilde_and_values_lose_trailing_whitespace() -> None:
    values = read_meta(FIXTURES / "sample3B_g0_t0.imec1.ap.meta").values

    assert values["~imroTbl"].startswith("(0,384)")
    assert "imroTbl" not in values
    assert values["imDatBsc_pn"] == "NP2_QBSC_00"  # written with a trailing tab


def test_a_meta_rewritten_without_tildes_keeps_its_keys_as_written() -> None:
    values = read_meta(FIXTURES / "sampleNP2.4_4shanks_g0_t0.imec.ap.meta").values

    assert "imroTbl" in values
    assert "~imroTbl" not in values


def test_crlf_line_endings_read_like_lf() -> None:
    raw = (FIXTURES / "sampleNPultra_g0_t0.imec0.ap.meta").read_bytes()
    assert b"\r\n" in raw

    assert parse_meta(raw.decode().replace("\r\n", "\n")) == read_meta(
        FIXTURES / "sampleNPultra_g0_t0.imec0.ap.meta"
    )


def test_a_meta_is_frozen_and_compares_by_its_facts() -> None:
    meta = read_meta(FIXTURES / "sample3B_g0_t0.imec1.ap.meta")

    with pytest.raises(AttributeError):
        meta.n_channels = 1  # type: ignore[misc]
    assert meta == Meta(385, 30000.390639481, Band.AP, Probe.NP1, 1, 24734244, meta.file_sha1)


@pytest.mark.parametrize(
    ("code", "probe"),
    [
        ("0", Probe.NP1),
        ("21", Probe.NP2_1),
        ("2003", Probe.NP2_1),
        ("24", Probe.NP2_4),
        ("2013", Probe.NP2_4),
    ],
)
def test_the_probe_follows_imdatprb_type_including_the_commercial_2_0_codes(code: str, probe: Probe) -> None:
    assert parse_meta(_edited("sampleNP2.1_g0_t0.imec.ap.meta", imDatPrb_type=code)).probe is probe


def test_a_meta_without_sync_channels_says_so() -> None:
    meta = parse_meta(_edited("sample3B_g0_t0.imec1.ap.meta", snsApLfSy="385,0,0"))

    assert not meta.has_sync
    assert meta.sync_channels == range(385, 385)


@pytest.mark.parametrize(
    ("name", "edits", "key"),
    [
        ("sample3B_g0_t0.imec1.ap.meta", {"nSavedChans": None}, "nSavedChans"),
        ("sample3B_g0_t0.imec1.ap.meta", {"nSavedChans": "many"}, "nSavedChans"),
        ("sample3B_g0_t0.imec1.ap.meta", {"nSavedChans": "0"}, "nSavedChans"),
        ("sample3B_g0_t0.imec1.ap.meta", {"imSampRate": None}, "imSampRate"),
        ("sample3B_g0_t0.imec1.ap.meta", {"imSampRate": "fast"}, "imSampRate"),
        ("sample3B_g0_t0.imec1.ap.meta", {"imSampRate": "0"}, "sample rate"),
        ("sample3B_g0_t0.nidq.meta", {"niSampRate": None}, "niSampRate"),
        ("sample3B_g0_t0.imec1.ap.meta", {"typeThis": None}, "typeThis"),
        ("sample3B_g0_t0.imec1.ap.meta", {"typeThis": "obx"}, "typeThis"),
        ("sample3B_g0_t0.imec1.ap.meta", {"snsApLfSy": None}, "snsApLfSy"),
        ("sample3B_g0_t0.imec1.ap.meta", {"snsApLfSy": "384,0"}, "snsApLfSy"),
        ("sample3B_g0_t0.imec1.ap.meta", {"snsApLfSy": "300,0,1"}, "nSavedChans=385"),
        ("sample3B_g0_t0.imec1.ap.meta", {"snsApLfSy": "192,192,1"}, "snsApLfSy"),
        ("sample3B_g0_t0.nidq.meta", {"snsMnMaXaDw": "0,0,1"}, "snsMnMaXaDw"),
        ("sample3B_g0_t0.imec1.ap.meta", {"fileSizeBytes": "1001"}, "fileSizeBytes"),
        ("sample3B_g0_t0.imec1.ap.meta", {"imDatPrb_type": "9999"}, "imDatPrb_type=9999"),
        ("sample3A_g0_t0.imec.ap.meta", {"imProbeOpt": None}, "imDatPrb_type"),
    ],
)
def test_a_meta_that_cannot_describe_its_binary_is_refused_naming_the_key(
    name: str, edits: dict, key: str
) -> None:
    with pytest.raises(SpikeGLXError, match=key):
        parse_meta(_edited(name, **edits))


def test_a_line_that_is_not_key_value_is_refused_with_its_number() -> None:
    with pytest.raises(SpikeGLXError, match="line 2"):
        key_values("typeThis=imec\nnot a setting\n")


def test_spikeglx_errors_are_bad_requests() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_meta("typeThis=imec\n")

    assert raised.value.status == 400
    assert "nSavedChans" in raised.value.detail


def _edited(name: str, **edits: str | None) -> str:
    """A real fixture with some keys replaced, or removed where the edit is None."""
    lines = []
    for line in (FIXTURES / name).read_text().splitlines():
        key = line.partition("=")[0]
        if key not in edits:
            lines.append(line)
        elif edits[key] is not None:
            lines.append(f"{key}={edits[key]}")
    return "\n".join(lines)
