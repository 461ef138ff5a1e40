"""Sorted probes for the website: the stored summaries (``batch/summaries.py``), and what the raw-data
viewer needs to read any window of a probe's recording with streaming reads.

Pages compute nothing here: the summaries were written by the EphysSummary job; the viewer gets a
presigned URL of the ``.cbin`` and its ``.ch`` header, and the browser asks S3 for the chunks it shows
(Range requests, as ``onecloud.stream`` does). The spikes of a window come from the sorting's
``spikes.times.npy`` by binary search over Range requests, so no request reads a whole spike table.
Standard library only: this runs in Lambda.
"""

from __future__ import annotations

import ast
import bisect
import json
import struct
from dataclasses import dataclass
from typing import Any

from chalicelib import aws, storage
from chalicelib.auth import Principal
from chalicelib.datasets import datasets_of_session
from chalicelib.downloads import may_read
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import Dataset, Session
from chalicelib.permissions import require_read
from chalicelib.registration import session_relative_path
from chalicelib.sessions import get_session

PROBE_SUMMARY, CLUSTER_SUMMARIES = "ephysSummary.probe.json", "ephysSummary.clusters.json"
MAX_WINDOW_SECONDS = 2.0  # the viewer's longest window (385 channels x 60,000 samples in the browser)
MAX_WINDOW_SPIKES = 20_000


@dataclass(frozen=True)
class SortedProbe:
    probe: str
    collection: str  # alf/<probe>/<sorter>
    datasets: dict[str, Dataset]  # by name

    @property
    def sorter(self) -> str:
        return self.collection.rsplit("/", 1)[-1]


def _readable(principal: Principal | None, session_id: str) -> tuple[Session, list[Dataset]]:
    principal = require_read(principal)
    session = get_session(session_id)
    return session, [
        d for d in datasets_of_session(session.id) if d.default_dataset and may_read(principal, d)
    ]


def sorted_probes(principal: Principal | None, session_id: str) -> list[SortedProbe]:
    """The session's probes that have a summary, by probe name (the configured sorter first)."""
    _, datasets = _readable(principal, session_id)
    collections = sorted({d.collection for d in datasets if d.name == PROBE_SUMMARY})
    preferred = aws.settings().sorter
    collections.sort(key=lambda c: (c.split("/")[1], c.rsplit("/", 1)[-1] != preferred))
    probes: dict[str, SortedProbe] = {}
    for collection in collections:
        probe = collection.split("/")[1]
        files = {d.name: d for d in datasets if d.collection == collection}
        probes.setdefault(probe, SortedProbe(probe, collection, files))
    return list(probes.values())


def sorted_probe(principal: Principal | None, session_id: str, probe: str) -> SortedProbe:
    for found in sorted_probes(principal, session_id):
        if found.probe == probe:
            return found
    raise NotFound(f"session {session_id} has no summary of {probe}: is it sorted yet?")


def _key(session: Session, dataset: Dataset) -> str:
    return f"{session_relative_path(session)}/{dataset.relative_path}"


def _read(session_id: str, dataset: Dataset, byte_range: tuple[int, int] | None = None) -> bytes:
    session = get_session(session_id)
    extra = {"Range": f"bytes={byte_range[0]}-{byte_range[1] - 1}"} if byte_range else {}
    answer = aws.client("s3").get_object(
        Bucket=aws.settings().data_bucket, Key=_key(session, dataset), **extra
    )
    return answer["Body"].read()


def probe_summary(principal: Principal | None, session_id: str, probe: str) -> dict[str, Any]:
    found = sorted_probe(principal, session_id, probe)
    summary = json.loads(_read(session_id, found.datasets[PROBE_SUMMARY]))
    return {**summary, "probe": probe, "collection": found.collection, "sorter": found.sorter}


def cluster_summary(principal: Principal | None, session_id: str, probe: str, cluster: int) -> dict[str, Any]:
    found = sorted_probe(principal, session_id, probe)
    if CLUSTER_SUMMARIES not in found.datasets:
        raise NotFound(f"{found.collection} has no {CLUSTER_SUMMARIES}")
    stored = json.loads(_read(session_id, found.datasets[CLUSTER_SUMMARIES]))
    entry = stored["clusters"].get(str(cluster))
    if entry is None:
        raise NotFound(f"{found.collection} has no cluster {cluster}")
    return {**entry, "cluster": cluster, "trials": stored.get("trials"), "collection": found.collection}


# --- the raw-data viewer ----------------------------------------------------------------------------------


def raw_source(principal: Principal | None, session_id: str, probe: str, band: str = "ap") -> dict[str, Any]:
    """What the browser needs to stream the probe: a presigned URL of the ``.cbin`` and its ``.ch``
    header (the volts per count of each channel are in the probe summary, read from the ``.meta``)."""
    session, datasets = _readable(principal, session_id)
    folder = [d for d in datasets if d.collection == f"raw_ephys_data/{probe}"]
    files = {}
    for suffix in ("cbin", "ch"):
        found = [d for d in folder if d.name.endswith(f".{band}.{suffix}")]
        if len(found) != 1:
            raise NotFound(f"session {session_id} has no compressed {band} band of {probe} to read")
        files[suffix] = found[0]
    header = json.loads(_read(session_id, files["ch"]))
    return {
        "url": storage.presign_get(_key(session, files["cbin"]), aws.settings().download_url_seconds),
        "header": {
            k: header[k]
            for k in (
                "n_channels",
                "sample_rate",
                "dtype",
                "chunk_bounds",
                "chunk_offsets",
                "chunk_order",
                "do_time_diff",
                "do_spatial_diff",
            )
        },  # fmt: skip
    }


def spikes_in_window(
    principal: Principal | None, session_id: str, probe: str, start: float, duration: float
) -> dict[str, Any]:
    """The sorting's spikes between ``start`` and ``start + duration`` seconds: times, clusters and peak
    channels, found by binary search on ``spikes.times.npy`` with Range requests."""
    if not 0 < duration <= MAX_WINDOW_SECONDS or start < 0:
        raise BadRequest(
            f"a window starts at 0 s or later and lasts more than 0 s, at most {MAX_WINDOW_SECONDS} s"
        )
    found = sorted_probe(principal, session_id, probe)
    needed = ("spikes.times.npy", "spikes.clusters.npy", "clusters.channels.npy")
    if any(name not in found.datasets for name in needed):
        return {"times": [], "clusters": [], "channels": []}
    times = RemoteArray(session_id, found.datasets["spikes.times.npy"])
    first, last = times.search(start), times.search(start + duration)
    last = min(last, first + MAX_WINDOW_SPIKES)
    clusters = RemoteArray(session_id, found.datasets["spikes.clusters.npy"]).slice(first, last)
    peak = RemoteArray(session_id, found.datasets["clusters.channels.npy"]).slice(0, None)
    return {
        "times": times.slice(first, last),
        "clusters": clusters,
        "channels": [peak[c] if 0 <= c < len(peak) else None for c in clusters],
    }


class RemoteArray:
    """A one-dimensional ``.npy`` in the store, read by Range requests (its header first)."""

    FORMATS = {"<f8": "d", "<f4": "f", "<i8": "q", "<i4": "i", "<u8": "Q", "<u4": "I", "<i2": "h", "<u2": "H"}

    def __init__(self, session_id: str, dataset: Dataset) -> None:
        self.session_id, self.dataset = session_id, dataset
        head = _read(session_id, dataset, (0, 128))
        if head[:6] != b"\x93NUMPY":
            raise BadRequest(f"{dataset.name} is not a .npy file")
        length = struct.unpack("<H", head[8:10])[0] if head[6] == 1 else struct.unpack("<I", head[8:12])[0]
        start = 10 if head[6] == 1 else 12
        if start + length > len(head):
            head = _read(session_id, dataset, (0, start + length))
        header = ast.literal_eval(head[start : start + length].decode("latin1"))
        if header["descr"] not in self.FORMATS or header["fortran_order"] or len(header["shape"]) != 1:
            raise BadRequest(f"{dataset.name} is not a one-dimensional little-endian numeric array")
        self.code = self.FORMATS[header["descr"]]
        self.itemsize = struct.calcsize(self.code)
        self.offset, self.size = start + length, header["shape"][0]

    def slice(self, first: int, last: int | None) -> list[Any]:
        last = self.size if last is None else min(last, self.size)
        if last <= first:
            return []
        body = _read(
            self.session_id,
            self.dataset,
            (self.offset + first * self.itemsize, self.offset + last * self.itemsize),
        )
        return list(struct.unpack(f"<{last - first}{self.code}", body))

    def search(self, value: float) -> int:
        """The first index whose value is >= ``value`` (the array is sorted): one request per halving,
        in pages of 512 values once the range is small."""
        low, high = 0, self.size
        while high - low > 512:
            middle = (low + high) // 2
            if self.slice(middle, middle + 1)[0] < value:
                low = middle + 1
            else:
                high = middle
        return low + bisect.bisect_left(self.slice(low, high), value)
