"""Streaming reads: any time window of a compressed recording, straight from the store.

An mtscomp ``.cbin`` is a run of independently zlib-compressed chunks (about a second each), and its
``.ch`` header lists every chunk's byte offset. So a window of a recording that is 80 GB an hour needs
only the chunks that cover it: the header is fetched once (and cached on disk), then the byte ranges of
those chunks are requested from S3 with HTTP Range on a presigned URL (adjacent chunks coalesced into one
request, several requests in parallel) and decoded here exactly as ``mtscomp.Reader`` decodes them. No
server sits in between: the API only hands out the presigned URL, through the same redirect ONE follows
(``data_url`` for lab members, ``/public/...`` for released data), and hands out a new one when it expires.

``open_probe(eid, "probe00")`` gives a :class:`Recording`; ``recording.read_seconds(120, 1)`` the samples
in volts (``volts=False``: the raw int16 counts).
"""

from __future__ import annotations

import bisect
import contextlib
import fnmatch
import hashlib
import json
import os
import random
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import requests
from mtscomp import cumsum_along_axis
from requests.adapters import HTTPAdapter

from batch.spikeglx import Meta, parse_meta, volts_per_count
from onecloud.client import TIMEOUT, Api, ApiError, api_url, authenticated

MAX_RANGE_BYTES = 16 * 2**20  # a longer run of chunks is split into requests of about this size, in parallel
CONNECTIONS = 8  # parallel range requests per recording
ATTEMPTS = 5  # per range: transient failures are retried with exponential backoff
BACKOFF_SECONDS = 0.2
RENEW_MARGIN_SECONDS = 15  # a URL this close to expiring is renewed before it is used
CACHED_CHUNKS = 4  # decoded chunks kept in memory (about 23 MB each for 385 channels): scrolling is cheap
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class StreamError(Exception):
    """A window that cannot be read: the message says what to change (or what the store answered)."""


# --- the compressed file's layout -------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """An mtscomp ``.ch``: the decoding parameters and the chunk table."""

    n_channels: int
    sample_rate: float
    dtype: np.dtype
    chunk_bounds: tuple[int, ...]  # sample index where each chunk starts, then the total
    chunk_offsets: tuple[int, ...]  # byte offset where each chunk starts, then the file size
    chunk_order: str
    do_time_diff: bool
    do_spatial_diff: bool

    @classmethod
    def parse(cls, text: str | bytes) -> Header:
        try:
            raw = json.loads(text)
            header = cls(
                n_channels=int(raw["n_channels"]),
                sample_rate=float(raw["sample_rate"]),
                dtype=np.dtype(raw["dtype"]),
                chunk_bounds=tuple(int(b) for b in raw["chunk_bounds"]),
                chunk_offsets=tuple(int(o) for o in raw["chunk_offsets"]),
                chunk_order=raw.get("chunk_order", "C"),
                do_time_diff=bool(raw["do_time_diff"]),
                do_spatial_diff=bool(raw["do_spatial_diff"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise StreamError(f"not an mtscomp header (.ch): {error}") from None
        if raw.get("algorithm", "zlib") != "zlib":
            raise StreamError(f"the .ch names the algorithm {raw['algorithm']!r}; mtscomp writes zlib")
        if len(header.chunk_bounds) != len(header.chunk_offsets) or len(header.chunk_bounds) < 2:
            raise StreamError("the .ch chunk table is inconsistent: bounds and offsets differ in length")
        return header

    @property
    def n_samples(self) -> int:
        return self.chunk_bounds[-1]

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_bounds) - 1

    @property
    def duration(self) -> float:
        return self.n_samples / self.sample_rate

    def chunks_for(self, start: int, stop: int) -> range:
        """The chunks holding samples ``start`` to ``stop`` (excluded): ``mtscomp.Reader``'s choice."""
        first = bisect.bisect_right(self.chunk_bounds, start) - 1
        last = bisect.bisect_right(self.chunk_bounds, stop - 1, lo=first) - 1
        return range(max(first, 0), min(last, self.n_chunks - 1) + 1)

    def byte_range(self, chunk: int) -> tuple[int, int]:
        return self.chunk_offsets[chunk], self.chunk_offsets[chunk + 1]


def decode_chunk(header: Header, chunk: int, compressed: bytes) -> np.ndarray:
    """A chunk's samples ``(n_samples, n_channels)``, undoing mtscomp's diffs with its own function."""
    try:
        buffer = zlib.decompress(compressed)
    except zlib.error as error:
        raise StreamError(f"compressed chunk {chunk} is corrupted ({error})") from None
    n_samples = header.chunk_bounds[chunk + 1] - header.chunk_bounds[chunk]
    data = np.frombuffer(buffer, header.dtype)
    if data.size != n_samples * header.n_channels:
        raise StreamError(f"chunk {chunk} holds {data.size} values, its header says {n_samples} samples")
    data = data.reshape((n_samples, header.n_channels), order=header.chunk_order)
    data = cumsum_along_axis(data, axis=1 if header.do_spatial_diff else None)
    data = cumsum_along_axis(data, axis=0 if header.do_time_diff else None)
    return np.ascontiguousarray(data)


def coalesce(chunks: Sequence[int], header: Header, max_bytes: int = MAX_RANGE_BYTES) -> list[list[int]]:
    """Groups of adjacent chunks, each fetched with one Range request: runs of consecutive chunks, split
    where a request would pass ``max_bytes`` so that long windows still arrive over parallel requests."""
    groups: list[list[int]] = []
    for chunk in sorted(chunks):
        group = groups[-1] if groups else None
        if (
            group
            and group[-1] + 1 == chunk
            and header.chunk_offsets[chunk + 1] - header.chunk_offsets[group[0]] <= max_bytes
        ):
            group.append(chunk)
        else:
            groups.append([chunk])
    return groups


# --- a file behind a presigned URL ------------------------------------------------------------------------


def url_expiry(url: str) -> float | None:
    """When a presigned S3 URL stops working (epoch seconds), from its X-Amz-Date and X-Amz-Expires
    (signature version 4) or its Expires (version 2)."""
    query = parse_qs(urlsplit(url).query)
    with contextlib.suppress(KeyError, ValueError, IndexError):
        return float(query["Expires"][0])
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed.timestamp() + int(query["X-Amz-Expires"][0])
    except (KeyError, ValueError, IndexError):
        return None


@dataclass
class Transfer:
    """What went over the network: the benchmark's and the tests' measure of "only what is needed"."""

    requests: int = 0
    bytes: int = 0
    url_renewals: int = 0
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)


class RemoteFile:
    """Byte ranges of one stored file. ``locate`` asks the API for a fresh presigned URL; it is called
    again when the URL is about to expire or S3 refuses it (403), and transient failures (connection
    errors, 5xx, 429, short bodies) are retried with exponential backoff."""

    def __init__(
        self,
        locate: Callable[[], str],
        http: requests.Session,
        *,
        transfer: Transfer | None = None,
        name: str = "",
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
    ) -> None:
        self.locate, self.http, self.name = locate, http, name
        self.transfer = transfer or Transfer()
        self.attempts, self.backoff = attempts, backoff
        self._url: str | None = None
        self._lock = threading.Lock()

    def url(self, *, renew: bool = False, refused: str | None = None) -> str:
        with self._lock:
            if refused is not None and refused != self._url:
                return self._url  # another thread renewed it already
            expiry = url_expiry(self._url) if self._url else None
            stale = expiry is not None and expiry - RENEW_MARGIN_SECONDS < time.time()
            if self._url is None or renew or stale:
                if self._url is not None:
                    self.transfer.add(url_renewals=1)
                self._url = self.locate()
            return self._url

    def read(self, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop`` (excluded)."""
        if stop <= start:
            return b""
        last_error = ""
        renewed = False
        for attempt in range(self.attempts):
            if attempt:
                self.transfer.add(retries=1)
                time.sleep(self.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
            url = self.url()
            try:
                answer = self.http.get(url, headers={"Range": f"bytes={start}-{stop - 1}"}, timeout=TIMEOUT)
                body = answer.content
            except (requests.ConnectionError, requests.Timeout) as error:
                last_error = f"{type(error).__name__}: {error}"
                continue
            self.transfer.add(requests=1, bytes=len(body))
            if answer.status_code == 403 and not renewed:
                renewed = True  # expired or revoked: one new URL, then S3's answer stands
                self.url(renew=True, refused=url)
                last_error = f"403 {_s3_message(body)}"
                continue
            if answer.status_code in TRANSIENT_STATUS:
                last_error = f"{answer.status_code} {_s3_message(body)}"
                continue
            if answer.status_code == 200 and len(body) > stop - start:
                raise StreamError(f"{self.name}: the store ignored the Range request (sent the whole file)")
            if answer.status_code not in (200, 206):
                raise StreamError(f"{self.name}: the store answered {answer.status_code} {_s3_message(body)}")
            if len(body) != stop - start:
                last_error = f"a short body ({len(body)} of {stop - start} bytes)"
                continue
            return body
        raise StreamError(
            f"{self.name}: bytes {start}-{stop - 1} failed {self.attempts} times ({last_error})"
        )

    def read_all(self) -> bytes:
        """The whole (small) file, with the same renewal and retries."""
        for attempt in range(self.attempts):
            if attempt:
                self.transfer.add(retries=1)
                time.sleep(self.backoff * 2 ** (attempt - 1))
            url = self.url(renew=attempt > 0)
            try:
                answer = self.http.get(url, timeout=TIMEOUT)
            except (requests.ConnectionError, requests.Timeout):
                continue
            self.transfer.add(requests=1, bytes=len(answer.content))
            if answer.status_code == 200:
                return answer.content
            if answer.status_code not in TRANSIENT_STATUS | {403}:
                raise StreamError(f"{self.name}: the store answered {answer.status_code}")
        raise StreamError(f"{self.name}: failed {self.attempts} times")


def _s3_message(body: bytes) -> str:
    text = body[:500].decode("utf-8", "replace")
    start, end = text.find("<Message>"), text.find("</Message>")
    return text[start + 9 : end] if 0 <= start < end else text[:120]


# --- a probe's recording ----------------------------------------------------------------------------------


class Recording:
    """One compressed SpikeGLX band in the store, read by time window."""

    def __init__(
        self,
        cbin: RemoteFile,
        header: Header,
        meta: Meta,
        *,
        name: str = "",
        connections: int = CONNECTIONS,
        cached_chunks: int = CACHED_CHUNKS,
        max_range_bytes: int = MAX_RANGE_BYTES,
    ) -> None:
        if meta.n_channels != header.n_channels:
            raise StreamError(f"the .ch holds {header.n_channels} channels but the .meta {meta.n_channels}")
        self.cbin, self.header, self.meta, self.name = cbin, header, meta, name
        self.volts_per_count = volts_per_count(meta)
        self._pool = ThreadPoolExecutor(connections, thread_name_prefix="onecloud-stream")
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_size = cached_chunks
        self.max_range_bytes = max_range_bytes
        self._cache_lock = threading.Lock()

    @property
    def transfer(self) -> Transfer:
        return self.cbin.transfer

    @property
    def sample_rate(self) -> float:
        return self.header.sample_rate

    @property
    def n_samples(self) -> int:
        return self.header.n_samples

    @property
    def n_channels(self) -> int:
        return self.header.n_channels

    @property
    def duration(self) -> float:
        return self.header.duration

    def samples(self, start: float, duration: float) -> tuple[int, int]:
        """The sample interval of a window in seconds, checked against the recording's length."""
        if not (np.isfinite(start) and np.isfinite(duration)) or start < 0 or duration <= 0:
            raise StreamError(
                f"a window starts at 0 s or later and lasts more than 0 s, not {start}, {duration}"
            )
        first = round(start * self.sample_rate)
        if first >= self.n_samples:
            raise StreamError(f"{self.name} lasts {self.duration:.3f} s: nothing at {start} s")
        return first, min(first + max(round(duration * self.sample_rate), 1), self.n_samples)

    def read_seconds(
        self, start: float, duration: float, channels: Sequence[int] | None = None, *, volts: bool = True
    ) -> np.ndarray:
        """``duration`` seconds from ``start`` (clipped at the end of the recording)."""
        return self.read(*self.samples(start, duration), channels, volts=volts)

    def read(
        self, start: int, stop: int, channels: Sequence[int] | None = None, *, volts: bool = False
    ) -> np.ndarray:
        """Samples ``start`` to ``stop`` (excluded) as ``(n_samples, n_channels)``: int16 counts, or volts
        (float32) with ``volts=True``. ``channels`` selects and orders channels (all by default)."""
        if not 0 <= start <= stop <= self.n_samples:
            raise StreamError(f"samples {start}:{stop} are outside the recording's 0:{self.n_samples}")
        picked = self._channels(channels)
        width = self.n_channels if picked is None else len(picked)
        if start == stop:
            return np.zeros((0, width), np.float32 if volts else self.header.dtype)
        chunks = self.header.chunks_for(start, stop)
        decoded = self._chunks(chunks)
        out = np.empty((stop - start, width), dtype=self.header.dtype)
        for chunk in chunks:
            first, last = self.header.chunk_bounds[chunk], self.header.chunk_bounds[chunk + 1]
            a, b = max(start, first), min(stop, last)
            block = decoded[chunk][a - first : b - first]
            out[a - start : b - start] = block if picked is None else block[:, picked]
        if not volts:
            return out
        scale = self.volts_per_count if picked is None else self.volts_per_count[picked]
        return out.astype(np.float32) * scale.astype(np.float32)

    def _channels(self, channels: Sequence[int] | None) -> np.ndarray | None:
        if channels is None:
            return None
        picked = np.asarray(channels, dtype=np.int64).reshape(-1)
        if picked.size and (picked.min() < 0 or picked.max() >= self.n_channels):
            raise StreamError(f"channels are numbered 0 to {self.n_channels - 1}")
        return picked

    def _chunks(self, chunks: Iterable[int]) -> dict[int, np.ndarray]:
        """The decoded chunks: those in memory, the others fetched as coalesced ranges in parallel."""
        decoded: dict[int, np.ndarray] = {}
        with self._cache_lock:
            for chunk in chunks:
                if chunk in self._cache:
                    self._cache.move_to_end(chunk)
                    decoded[chunk] = self._cache[chunk]
        missing = [c for c in chunks if c not in decoded]
        for group in self._pool.map(self._fetch, coalesce(missing, self.header, self.max_range_bytes)):
            decoded.update(group)
        with self._cache_lock:
            for chunk in missing:
                self._cache[chunk] = decoded[chunk]
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return decoded

    def _fetch(self, group: list[int]) -> dict[int, np.ndarray]:
        start, stop = self.header.chunk_offsets[group[0]], self.header.chunk_offsets[group[-1] + 1]
        body = memoryview(self.cbin.read(start, stop))
        out = {}
        for chunk in group:
            a, b = self.header.byte_range(chunk)
            out[chunk] = decode_chunk(self.header, chunk, bytes(body[a - start : b - start]))
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- finding a probe's files through the API --------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A dataset's file as the API lists it: where to ask for its bytes and what identifies its content."""

    dataset: str
    name: str
    url: str  # the API's redirect to a presigned GET (data_url, or /public/... for released data)
    hash: str | None
    size: int | None


def http_session(connections: int = CONNECTIONS) -> requests.Session:
    http = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(connections, 4))
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def presigned(http: requests.Session, redirect: str) -> str:
    """Follow the API's redirect one step: the presigned URL it answers (``http`` carries the token)."""
    try:
        answer = http.get(redirect, allow_redirects=False, timeout=TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as error:
        raise StreamError(f"cannot reach {redirect}: {error}") from None
    if answer.status_code in (301, 302, 303, 307) and answer.headers.get("Location"):
        return answer.headers["Location"]
    if answer.status_code == 401:
        raise StreamError(f"{redirect}: log in (`onecloud login`) to read unreleased data")
    if answer.status_code == 404:
        raise StreamError(f"{redirect}: not found, or not yours to read until it is released")
    raise StreamError(f"{redirect}: expected a redirect to the store, got {answer.status_code}")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/onecloud/stream`` (``~/.cache`` by default): headers, kept by content hash."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "onecloud" / "stream"


def cached_bytes(file: StoredFile, fetch: Callable[[], bytes], folder: Path | None) -> bytes:
    """A small file's bytes, from the disk cache when its content (dataset id and hash) was seen before."""
    if folder is None:
        return fetch()
    tag = hashlib.sha1(f"{file.dataset}:{file.hash}:{file.size}".encode()).hexdigest()[:16]
    path = folder / f"{tag}.{file.name}"
    with contextlib.suppress(OSError):
        return path.read_bytes()
    body = fetch()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(body)
        os.replace(partial, path)
    return body


class Locator:
    """Where a session's files are, for a lab member (the REST API, a token) or anyone (a public release)."""

    def __init__(self, url: str | None = None, *, api: Api | None = None, public: bool = False) -> None:
        self.url = api.url if api else api_url(url)
        if api is None and not public:
            try:
                api = authenticated(self.url)
            except ApiError as error:
                if "not logged in" not in str(error):
                    raise StreamError(str(error)) from None
                api = None  # no credentials: released data only
        self.api = None if public else api
        self.http = self.api.http if self.api else http_session()  # the API, with the token if any
        self.store = http_session()  # presigned URLs: S3 refuses a second credential (the token)

    @property
    def anonymous(self) -> bool:
        return self.api is None

    def probe_files(self, eid: str, collection: str, release: str | None = None) -> list[StoredFile]:
        if self.anonymous:
            return self._released(eid, collection, release)
        try:
            datasets = self.api.get("/datasets", session=eid, collection=collection, limit=1000)
        except ApiError as error:
            raise StreamError(str(error)) from None
        return [self._stored(d) for d in datasets["results"] if d.get("default_dataset", True)]

    def dataset_files(self, dataset_id: str) -> tuple[str, str, list[StoredFile]]:
        """A dataset's session, collection and the files beside it (lab members: anonymous callers name
        the session and probe)."""
        if self.anonymous:
            raise StreamError(
                "reading by dataset id needs an account: anonymous users name the session and probe"
            )
        try:
            dataset = self.api.get(f"/datasets/{dataset_id}")
        except ApiError as error:
            raise StreamError(str(error)) from None
        eid = dataset["session"].rstrip("/").rsplit("/", 1)[-1]
        return eid, dataset["collection"], self.probe_files(eid, dataset["collection"])

    def _stored(self, dataset: dict[str, Any]) -> StoredFile:
        url = next(
            (f["data_url"] for f in dataset.get("file_records", []) if f.get("exists") and f.get("data_url")),
            None,
        )
        return StoredFile(
            dataset["id"], dataset["name"], url or "", dataset.get("hash"), dataset.get("file_size")
        )

    def _released(self, eid: str, collection: str, release: str | None) -> list[StoredFile]:
        names = [release] if release else [r["name"] for r in self._pages(f"{self.url}/public/releases")]
        for name in names:
            found = [
                d
                for d in self._pages(f"{self.url}/public/releases/{name}/datasets", session=eid)
                if d["rel_path"].rsplit("/", 1)[0] == collection
            ]
            if found:
                return [
                    StoredFile(
                        d["id"], d["rel_path"].rsplit("/", 1)[-1], d["url"], d.get("hash"), d.get("file_size")
                    )
                    for d in found
                ]
        return []

    def _pages(self, url: str, **params: str) -> Iterable[dict[str, Any]]:
        next_url: str | None = url
        while next_url:
            try:
                answer = self.http.get(next_url, params=params if next_url == url else None, timeout=TIMEOUT)
            except requests.ConnectionError:
                raise StreamError(f"cannot reach the onecloud API at {self.url}: is it running?") from None
            if answer.status_code == 404:
                raise StreamError(f"{next_url}: no such release")
            if not answer.ok:
                raise StreamError(f"{next_url}: {answer.status_code} {answer.text[:200]}")
            page = answer.json()
            yield from page["results"]
            next_url = page.get("next")


def _pick(files: list[StoredFile], pattern: str, where: str) -> StoredFile:
    found = [f for f in files if fnmatch.fnmatchcase(f.name, pattern)]
    if len(found) != 1:
        have = ", ".join(sorted(f.name for f in files)) or "no datasets"
        raise StreamError(f"expected one {pattern} in {where}, found {len(found)} (it holds {have})")
    if not found[0].url:
        raise StreamError(f"{where}/{found[0].name} has no copy in the store yet")
    return found[0]


def open_files(
    locator: Locator,
    files: list[StoredFile],
    where: str,
    band: str = "ap",
    *,
    headers: Path | None = None,
    connections: int = CONNECTIONS,
) -> Recording:
    cbin, ch, meta = (_pick(files, f"*.{band}.{suffix}", where) for suffix in ("cbin", "ch", "meta"))
    transfer = Transfer()

    def remote(file: StoredFile) -> RemoteFile:
        return RemoteFile(
            lambda: presigned(locator.http, file.url),
            locator.store,
            transfer=transfer,
            name=f"{where}/{file.name}",
        )

    header = Header.parse(cached_bytes(ch, remote(ch).read_all, headers))
    meta_text = cached_bytes(meta, remote(meta).read_all, headers).decode("utf-8", "replace")
    try:
        parsed = parse_meta(meta_text)
    except Exception as error:  # SpikeGLXError names the key at fault
        raise StreamError(f"{where}/{meta.name}: {error}") from None
    return Recording(remote(cbin), header, parsed, name=f"{where}/{cbin.name}", connections=connections)


def open_probe(
    eid: str,
    probe: str,
    *,
    url: str | None = None,
    api: Api | None = None,
    public: bool = False,
    release: str | None = None,
    band: str = "ap",
    headers: Path | None | bool = True,
    connections: int = CONNECTIONS,
) -> Recording:
    """The ``band`` of ``raw_ephys_data/<probe>`` of session ``eid``. Credentials are those of
    ``onecloud upload`` (``ONECLOUD_USERNAME``/``ONECLOUD_PASSWORD`` or ``onecloud login``); without any,
    or with ``public=True``, the session's released files are read (from ``release``, else the newest
    release that holds them). ``headers``: the folder caching ``.ch``/``.meta`` (True: the default one,
    None: no cache)."""
    locator = Locator(url, api=api, public=public)
    collection = f"raw_ephys_data/{probe}"
    files = locator.probe_files(eid, collection, release)
    if not files:
        who = "released" if locator.anonymous else "registered"
        raise StreamError(f"session {eid} has no {who} datasets in {collection}")
    folder = cache_dir() if headers is True else headers or None
    return open_files(locator, files, f"{eid}/{collection}", band, headers=folder, connections=connections)


def open_dataset(
    dataset_id: str, *, url: str | None = None, api: Api | None = None, headers: Path | None | bool = True
) -> Recording:
    """The recording whose ``.cbin`` (or ``.ch``/``.meta``) is dataset ``dataset_id``."""
    locator = Locator(url, api=api)
    eid, collection, files = locator.dataset_files(dataset_id)
    name = next((f.name for f in files if f.dataset == dataset_id), "")
    band = "lf" if ".lf." in name else "ap"
    folder = cache_dir() if headers is True else headers or None
    return open_files(locator, files, f"{eid}/{collection}", band, headers=folder)


def load_window(
    eid: str,
    probe: str,
    start: float,
    duration: float,
    channels: Sequence[int] | None = None,
    *,
    volts: bool = True,
    **options: Any,
) -> np.ndarray:
    """One window of a probe's recording: ``(n_samples, n_channels)`` in volts (int16 with volts=False)."""
    with open_probe(eid, probe, **options) as recording:
        return recording.read_seconds(start, duration, channels, volts=volts)
