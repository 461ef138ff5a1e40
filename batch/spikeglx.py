"""SpikeGLX ``.meta`` files: what a recording's binary holds, read before touching the binary.

SpikeGLX writes a ``.meta`` beside every ``.bin`` it records (one per probe band, one for the NI-DAQ
stream), as ``key=value`` lines. The compression job needs only a few facts from it (channel count,
sample rate, band, sync channels, length), but labs run every SpikeGLX version since 2018 and a file
copied mid-acquisition lacks its closing keys, so each fact is derived the way the rigs write it and a
file that cannot say it fails with an error naming the key at fault.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from chalicelib.errors import BadRequest


class SpikeGLXError(BadRequest):
    """A ``.meta`` that cannot describe its binary, or a binary that does not match its ``.meta``."""


class Band(enum.StrEnum):
    """The stream a binary holds: a probe's action-potential or local-field band, or the NI-DAQ."""

    AP = "ap"
    LF = "lf"
    NIDQ = "nidq"


class Probe(enum.StrEnum):
    """Neuropixels probe generations, named as ibl-neuropixel names them (its 3B1/3B2, two 1.0 prototype
    headstages, are one generation here: 3B, the commercial Neuropixels 1.0)."""

    NP3A = "3A"
    NP1 = "3B"
    NP2_1 = "NP2.1"
    NP2_4 = "NP2.4"
    NP_ULTRA = "NPultra"


DTYPE = np.dtype("<i2")  # SpikeGLX writes every stream as interleaved little-endian int16

# imDatPrb_type codes (SpikeGLX >= 2019): the 2.0 probes were sold under new codes (2003, 2013) after the
# prototypes (21, 24); the 3A prototype predates the key and has imProbeOpt instead.
PROBE_TYPES: Mapping[int, Probe] = MappingProxyType(
    {
        0: Probe.NP1,
        21: Probe.NP2_1,
        2003: Probe.NP2_1,
        24: Probe.NP2_4,
        2013: Probe.NP2_4,
        1100: Probe.NP_ULTRA,
    }
)


@dataclass(frozen=True)
class Meta:
    """The facts of one SpikeGLX binary that processing relies on.

    ``n_samples`` is None when the ``.meta`` was copied while SpikeGLX was still acquiring (it writes
    ``fileSizeBytes`` only when the file closes): the binary's own length then decides.
    The trailing ``n_sync_channels`` channels hold the digital sync words that align streams.
    """

    n_channels: int
    sample_rate: float
    band: Band
    probe: Probe | None
    n_sync_channels: int
    n_samples: int | None = None
    file_sha1: str | None = None
    values: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def dtype(self) -> np.dtype:
        return DTYPE

    @property
    def bytes_per_sample(self) -> int:
        """Bytes of one time sample across all saved channels."""
        return self.n_channels * self.dtype.itemsize

    @property
    def sync_channels(self) -> range:
        return range(self.n_channels - self.n_sync_channels, self.n_channels)

    @property
    def has_sync(self) -> bool:
        return self.n_sync_channels > 0


def read_meta(path: str | Path) -> Meta:
    """Parse the ``.meta`` file at ``path``."""
    return parse_meta(Path(path).read_text(encoding="utf-8", errors="replace"))


def parse_meta(text: str) -> Meta:
    """Parse the text of a ``.meta`` file into its :class:`Meta`."""
    values = key_values(text)
    stream = _required(values, "typeThis")
    if stream not in ("imec", "nidq"):
        raise SpikeGLXError(f"typeThis={stream!r} is neither 'imec' nor 'nidq'")
    n_channels = _integer(values, "nSavedChans")
    if n_channels <= 0:
        raise SpikeGLXError(f"nSavedChans={n_channels} must be positive")
    if stream == "imec":
        sample_rate = _number(values, "imSampRate")
        band, n_sync_channels = _imec_band(values, n_channels)
        probe = _probe(values)
    else:
        sample_rate = _number(values, "niSampRate")
        *_, n_sync_channels = _channel_counts(values, "snsMnMaXaDw", 4, n_channels)
        band, probe = Band.NIDQ, None
    if not math.isfinite(sample_rate) or sample_rate <= 0:
        raise SpikeGLXError(f"the sample rate {sample_rate} must be a positive number")
    return Meta(
        n_channels=n_channels,
        sample_rate=sample_rate,
        band=band,
        probe=probe,
        n_sync_channels=n_sync_channels,
        n_samples=_n_samples(values, n_channels),
        file_sha1=values["fileSHA1"].lower() if values.get("fileSHA1") else None,
        values=MappingProxyType(values),
    )


def key_values(text: str) -> dict[str, str]:
    """Every ``key=value`` line as written: keys keep their leading ``~`` (SpikeGLX's mark of a table)."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise SpikeGLXError(f"line {number} of the .meta is not key=value: {line[:80]!r}")
        values[key.strip()] = value.strip()
    return values


def _imec_band(values: Mapping[str, str], n_channels: int) -> tuple[Band, int]:
    # snsApLfSy counts the channels saved in this file; acqApLfSy counts those acquired, which an LF
    # file or a saved subset (snsSaveChanSubset) does not hold, so only sns describes the binary.
    ap, lf, sync = _channel_counts(values, "snsApLfSy", 3, n_channels)
    if ap and not lf:
        return Band.AP, sync
    if lf and not ap:
        return Band.LF, sync
    raise SpikeGLXError(f"snsApLfSy={values['snsApLfSy']} must save AP or LF channels, not both or neither")


def _channel_counts(values: Mapping[str, str], key: str, size: int, n_channels: int) -> list[int]:
    text = _required(values, key)
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if len(counts) != size or min(counts) < 0:
        raise SpikeGLXError(f"{key}={text!r} is not {size} comma-separated channel counts")
    if sum(counts) != n_channels:
        raise SpikeGLXError(f"{key}={text} adds up to {sum(counts)} channels, but nSavedChans={n_channels}")
    return counts


def _n_samples(values: Mapping[str, str], n_channels: int) -> int | None:
    if "fileSizeBytes" not in values:
        return None
    size = _integer(values, "fileSizeBytes")
    bytes_per_sample = n_channels * DTYPE.itemsize
    if size < 0 or size % bytes_per_sample:
        raise SpikeGLXError(
            f"fileSizeBytes={size} is not a whole number of {n_channels}-channel int16 samples"
        )
    return size // bytes_per_sample


def _probe(values: Mapping[str, str]) -> Probe:
    if "imDatPrb_type" in values:
        code = _integer(values, "imDatPrb_type")
        if code not in PROBE_TYPES:
            raise SpikeGLXError(f"imDatPrb_type={code} is not a known Neuropixels probe type")
        return PROBE_TYPES[code]
    if "imProbeOpt" in values:
        return Probe.NP3A
    raise SpikeGLXError("an imec .meta needs imDatPrb_type (or imProbeOpt for a 3A probe) to name its probe")


def _required(values: Mapping[str, str], key: str) -> str:
    if not values.get(key):
        raise SpikeGLXError(f"the .meta has no {key}")
    return values[key]


def _integer(values: Mapping[str, str], key: str) -> int:
    text = _required(values, key)
    try:
        return int(text)
    except ValueError:
        raise SpikeGLXError(f"{key}={text!r} is not an integer") from None


def _number(values: Mapping[str, str], key: str) -> float:
    text = _required(values, key)
    try:
        return float(text)
    except ValueError:
        raise SpikeGLXError(f"{key}={text!r} is not a number") from None


# Neuropixels 2.0 probes have one fixed gain, so SpikeGLX writes none in their imroTbl (before imChan0apGain).
NP2_GAIN = 80.0
NP2_PROBES = frozenset({Probe.NP2_1, Probe.NP2_4})


def volts_per_count(meta: Meta) -> np.ndarray:
    """Volts per int16 count of each saved channel: ``imAiRangeMax / imMaxInt / gain``, the gain of a
    1.0 probe's channel read from its imroTbl entry for the band; sync channels keep their raw counts (1),
    as ibl-neuropixel's readers do."""
    if meta.band is Band.NIDQ or meta.probe is None:
        raise SpikeGLXError("volts are known for Neuropixels probe bands only, not the NI-DAQ stream")
    values = meta.values
    n_neural = meta.n_channels - meta.n_sync_channels
    if meta.probe in NP2_PROBES:
        gains = np.full(n_neural, float(values.get("imChan0apGain") or NP2_GAIN))
        max_int = float(values.get("imMaxInt") or 8192)
    else:
        gains = _imro_gains(values, n_neural, 3 if meta.band is Band.AP else 4)
        max_int = float(values.get("imMaxInt") or 512)
    scale = _number(values, "imAiRangeMax") / max_int
    return np.concatenate([scale / gains, np.ones(meta.n_sync_channels)])


def _imro_gains(values: Mapping[str, str], n_channels: int, column: int) -> np.ndarray:
    """Per-channel gains from ``~imroTbl=(header)(chan bank ref apgain lfgain ...)...``: one entry per
    electrode read out; snsSaveChanSubset numbers AP channels from 0, LF channels after them, so a saved
    channel's entry is its number modulo the entry count."""
    table = _required(values, "~imroTbl").strip("()").split(")(")[1:]
    try:
        gains = np.array([float(entry.split()[column]) for entry in table])
    except (IndexError, ValueError):
        raise SpikeGLXError(f"~imroTbl has no gain in column {column} of its channel entries") from None
    saved = _saved_channels(values, len(gains))
    if len(saved) < n_channels or np.any(gains[saved[:n_channels]] <= 0):
        raise SpikeGLXError(f"~imroTbl does not give a positive gain for each of the {n_channels} channels")
    return gains[saved[:n_channels]]


def _saved_channels(values: Mapping[str, str], n_acquired: int) -> np.ndarray:
    subset = values.get("snsSaveChanSubset", "all")
    if subset == "all":
        return np.arange(n_acquired)
    channels: list[int] = []
    try:
        for part in subset.split(","):
            first, _, last = part.partition(":")
            channels.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        raise SpikeGLXError(f"snsSaveChanSubset={subset!r} is not a list of channel ranges") from None
    return np.array([c % n_acquired for c in channels if c < 2 * n_acquired])
