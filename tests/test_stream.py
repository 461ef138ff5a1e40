"""Streaming reads (onecloud.stream): any window of a compressed recording, byte ranges over HTTP.

The recording is compressed by the real mtscomp into a real moto S3 server (HTTP, as in the local stack),
read back through presigned URLs with Range requests, and every window is compared with what the
unmodified ``mtscomp.Reader`` decodes from the whole file. The bytes that cross the network are counted
on the HTTP responses themselves, not by the client's own statistics.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import mtscomp
import numpy as np
import pytest
import requests
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter

from batch.spikeglx import parse_meta, volts_per_count
from onecloud import stream
from tests.localstack import free_port

FIXTURES = Path(__file__).parent / "fixtures" / "spikeglx"
CHANNELS = 385
SAMPLE_RATE = 30_000.0
CHUNK_SECONDS = 0.02  # 600 samples a chunk: many chunks in a small file
N_SAMPLES = 6_150  # 10 whole chunks and a last partial one of 150 samples
BUCKET = "stream-test"
NP1_VOLTS = 0.6 / 512 / 500  # a Neuropixels 1.0 AP channel at gain 500


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 over HTTP on loopback: presigned URLs and Range requests as the local stack serves them."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    requests.put(f"{endpoint}/{BUCKET}", timeout=10).raise_for_status()
    yield endpoint
    server.stop()


def _s3(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),  # as chalicelib.aws signs
    )


@pytest.fixture(scope="module")
def stored(s3_server: str, tmp_path_factory) -> dict:
    """A 385-channel recording compressed with mtscomp (with a last partial chunk), in the bucket."""
    folder = tmp_path_factory.mktemp("recording")
    rng = np.random.default_rng(0)
    samples = np.cumsum(rng.integers(-40, 41, size=(N_SAMPLES, CHANNELS)), axis=0).astype("<i2")
    raw = folder / "probe.ap.bin"
    samples.tofile(raw)
    cbin, ch = folder / "probe.ap.cbin", folder / "probe.ap.ch"
    mtscomp.compress(
        raw, cbin, ch, sample_rate=SAMPLE_RATE, n_channels=CHANNELS, dtype=samples.dtype,
        chunk_duration=CHUNK_SECONDS, quiet=True,
    )  # fmt: skip
    for path in (cbin, ch):
        requests.put(
            f"{s3_server}/{BUCKET}/{path.name}", data=path.read_bytes(), timeout=30
        ).raise_for_status()
    reader = mtscomp.Reader(check_after_decompress=False, quiet=True)
    reader.open(cbin, ch)
    meta = (FIXTURES / "sample3B_version202304.ap.meta").read_text()
    return {"reader": reader, "samples": samples, "cbin": cbin, "ch": ch, "meta": parse_meta(meta)}


class Counting(HTTPAdapter):
    """Counts the body bytes of every HTTP response (what crossed the network), and may fail on purpose:
    ``faults`` is a list of what the next requests meet instead of the store ("drop", a status code)."""

    def __init__(self) -> None:
        super().__init__(pool_maxsize=16)
        self.bytes = 0
        self.requests: list[str] = []
        self.faults: list = []
        self.lock = threading.Lock()

    def send(self, request, **kwargs):
        self.requests.append(request.headers.get("Range", "all"))
        if self.faults:
            fault = self.faults.pop(0)
            if fault == "drop":
                raise requests.ConnectionError("connection reset by peer")
            response = requests.Response()
            response.status_code, response.request, response.url = fault, request, request.url
            message = "Request has expired" if fault == 403 else "Please reduce your request rate."
            response._content = f"<Error><Message>{message}</Message></Error>".encode()
            return response
        response = super().send(request, **kwargs)
        with self.lock:  # ranges arrive on parallel threads
            self.bytes += len(response.content)
        return response


@pytest.fixture
def network() -> Counting:
    return Counting()


def open_recording(endpoint: str, stored: dict, network: Counting, *, expires: int = 300, **kwargs):
    http = requests.Session()
    http.mount("http://", network)
    urls: list[str] = []

    def locate() -> str:
        urls.append(
            _s3(endpoint).generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": stored["cbin"].name}, ExpiresIn=expires
            )
        )
        return urls[-1]

    header = stream.Header.parse(stored["ch"].read_text())
    remote = stream.RemoteFile(locate, http, name="probe.ap.cbin", backoff=0.01)
    recording = stream.Recording(remote, header, stored["meta"], **kwargs)
    recording.urls = urls
    return recording


def chunk_bytes(header: stream.Header, start: int, stop: int) -> int:
    chunks = header.chunks_for(start, stop)
    return header.chunk_offsets[chunks[-1] + 1] - header.chunk_offsets[chunks[0]]


CHUNK = 600
EDGES = [
    (0, 1),  # the first sample
    (0, CHUNK),  # exactly the first chunk: the next one is not read
    (CHUNK - 1, CHUNK + 1),  # across a chunk edge
    (CHUNK, 2 * CHUNK),  # a whole chunk starting on its edge
    (5 * CHUNK + 17, 7 * CHUNK + 3),  # three chunks
    (10 * CHUNK, N_SAMPLES),  # the last, partial chunk
    (N_SAMPLES - 1, N_SAMPLES),  # the last sample
    (9 * CHUNK + 599, N_SAMPLES),  # from the end of a whole chunk through the partial one
    (0, N_SAMPLES),  # everything
]


@pytest.mark.parametrize(("start", "stop"), EDGES)
def test_a_window_is_exactly_what_mtscomp_decodes_and_only_its_chunks_are_read(
    s3_server, stored, network, start, stop
):
    with open_recording(s3_server, stored, network) as recording:
        window = recording.read(start, stop)
    assert window.dtype == np.int16 and window.shape == (stop - start, CHANNELS)
    np.testing.assert_array_equal(window, stored["reader"][start:stop])
    np.testing.assert_array_equal(window, stored["samples"][start:stop])
    assert network.bytes == chunk_bytes(recording.header, start, stop)
    assert recording.transfer.bytes == network.bytes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_window_and_channel_selection_matches_mtscomp(s3_server, stored, data):
    start = data.draw(st.integers(0, N_SAMPLES - 1), label="start")
    stop = data.draw(st.integers(start + 1, N_SAMPLES), label="stop")
    channels = data.draw(st.lists(st.integers(0, CHANNELS - 1), max_size=8) | st.none(), label="channels")
    network = Counting()
    with open_recording(s3_server, stored, network) as recording:
        window = recording.read(start, stop, channels)
    expected = stored["reader"][start:stop]
    np.testing.assert_array_equal(window, expected if channels is None else expected[:, channels])
    assert network.bytes == chunk_bytes(recording.header, start, stop)


def test_volts_use_the_gain_of_each_channel_from_the_meta(s3_server, stored, network):
    with open_recording(s3_server, stored, network) as recording:
        volts = recording.read_seconds(0.1, 0.01, [0, 100, 384])
    counts = stored["samples"][3000:3300][:, [0, 100, 384]]
    assert volts.dtype == np.float32 and volts.shape == (300, 3)
    np.testing.assert_allclose(volts[:, :2], counts[:, :2] * NP1_VOLTS, rtol=1e-6)
    np.testing.assert_array_equal(volts[:, 2], counts[:, 2])  # the sync channel keeps its counts


def test_adjacent_chunks_are_coalesced_into_one_range(s3_server, stored, network):
    header = stream.Header.parse(stored["ch"].read_text())
    with open_recording(s3_server, stored, network) as recording:
        np.testing.assert_array_equal(recording.read(0, 10 * CHUNK), stored["samples"][: 10 * CHUNK])
    assert network.requests == [f"bytes=0-{header.chunk_offsets[10] - 1}"]  # ten chunks, one request


def test_a_long_window_is_split_into_ranges_fetched_in_parallel(s3_server, stored, network):
    header = stream.Header.parse(stored["ch"].read_text())
    two_chunks = header.chunk_offsets[2] - header.chunk_offsets[0]
    with open_recording(s3_server, stored, network, max_range_bytes=two_chunks) as recording:
        np.testing.assert_array_equal(recording.read(0, 10 * CHUNK), stored["samples"][: 10 * CHUNK])
    groups = stream.coalesce(range(10), header, two_chunks)
    assert 5 <= len(groups) < 10 and all(len(g) <= 2 for g in groups)
    expected = [f"bytes={header.chunk_offsets[g[0]]}-{header.chunk_offsets[g[-1] + 1] - 1}" for g in groups]
    assert sorted(network.requests) == sorted(expected)
    assert network.bytes == header.chunk_offsets[10]


def test_windows_already_read_are_not_fetched_again(s3_server, stored, network):
    with open_recording(s3_server, stored, network) as recording:
        recording.read(100, 1300)
        first = network.bytes
        recording.read(700, 1000)  # inside chunk 1, cached
        assert network.bytes == first
        recording.read(1000, 2000)  # chunks 1 (cached) and 3: only chunk 3 is fetched
    header = recording.header
    assert network.bytes == first + header.chunk_offsets[4] - header.chunk_offsets[3]


def test_an_expiring_url_is_renewed_before_it_is_used(s3_server, stored, network, monkeypatch):
    with open_recording(s3_server, stored, network, expires=60) as recording:
        recording.read(0, 10)
        later = time.time() + 60 - stream.RENEW_MARGIN_SECONDS + 1
        monkeypatch.setattr(stream.time, "time", lambda: later)
        np.testing.assert_array_equal(
            recording.read(CHUNK, CHUNK + 10), stored["samples"][CHUNK : CHUNK + 10]
        )
    assert len(recording.urls) == 2 and recording.transfer.url_renewals == 1


def test_a_url_the_store_refuses_as_expired_is_renewed_once(s3_server, stored, network):
    network.faults = [403]
    with open_recording(s3_server, stored, network) as recording:
        np.testing.assert_array_equal(recording.read(0, 10), stored["samples"][:10])
    assert len(recording.urls) == 2 and recording.transfer.url_renewals == 1


def test_a_url_refused_again_after_renewal_is_an_error_naming_the_answer(s3_server, stored, network):
    network.faults = [403, 403]
    with open_recording(s3_server, stored, network) as recording, pytest.raises(stream.StreamError) as error:
        recording.read(0, 10)
    assert "403" in str(error.value) and "probe.ap.cbin" in str(error.value)


def test_transient_failures_are_retried(s3_server, stored, network):
    network.faults = ["drop", 503, 500]
    with open_recording(s3_server, stored, network) as recording:
        np.testing.assert_array_equal(recording.read(0, 700), stored["samples"][:700])
    assert recording.transfer.retries == 3 and len(recording.urls) == 1


def test_a_store_that_keeps_failing_gives_up_with_a_clear_error(s3_server, stored, network):
    network.faults = [503] * stream.ATTEMPTS
    with open_recording(s3_server, stored, network) as recording, pytest.raises(stream.StreamError) as error:
        recording.read(0, 10)
    assert f"failed {stream.ATTEMPTS} times" in str(error.value) and "503" in str(error.value)


def test_a_window_outside_the_recording_is_refused_with_its_length(s3_server, stored, network):
    with open_recording(s3_server, stored, network) as recording:
        with pytest.raises(stream.StreamError, match="lasts 0.205 s"):
            recording.read_seconds(1.0, 1.0)
        with pytest.raises(stream.StreamError, match="channels are numbered 0 to 384"):
            recording.read(0, 10, [385])
        assert recording.read_seconds(0.2, 1.0).shape == (N_SAMPLES - 6000, CHANNELS)  # clipped at the end
    assert network.bytes == chunk_bytes(recording.header, 6000, N_SAMPLES)


def test_the_chunks_of_a_window_are_those_that_hold_its_samples_and_no_more():
    real = stream.Header.parse((FIXTURES / "np24_split.imec0.ap.ch").read_text())  # one second, one chunk
    assert (real.n_channels, real.n_chunks, list(real.chunks_for(0, real.n_samples))) == (385, 1, [0])
    header = stream.Header.parse(_ch_with_bounds([0, 600, 1200, 1800, 1950]))
    bounds = header.chunk_bounds
    for k in range(header.n_chunks):
        assert list(header.chunks_for(bounds[k], bounds[k + 1])) == [k]  # not the chunk after it
    assert list(header.chunks_for(bounds[1] - 1, bounds[1] + 1)) == [0, 1]
    assert list(header.chunks_for(0, header.n_samples)) == list(range(header.n_chunks))


def _ch_with_bounds(bounds: list[int]) -> str:
    header = json.loads((FIXTURES / "np24_split.imec0.ap.ch").read_text())
    return json.dumps({**header, "chunk_bounds": bounds, "chunk_offsets": [10 * b for b in bounds]})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sample3B_version202304.ap.meta", 0.6 / 512 / 500),
        ("sample3B_g0_t0.imec1.lf.meta", 0.6 / 512 / 250),
        ("sampleNP2.4_4shanks_g0_t0.imec.ap.meta", 0.5 / 8192 / 80),
        ("sampleNP2.1_g0_t0.imec.ap.meta", 0.5 / 8192 / 80),
        ("sampleNPultra_g0_t0.imec0.ap.meta", 0.6 / 512 / 500),
        ("sample3A_g0_t0.imec.ap.meta", 0.6 / 512 / 500),
    ],
)
def test_volts_per_count_follow_each_probe_generation(name, expected):
    factors = volts_per_count(parse_meta((FIXTURES / name).read_text()))
    assert factors.shape == (385,)
    np.testing.assert_allclose(factors[:384], expected)
    assert factors[384] == 1.0


def test_the_expiry_of_a_presigned_url_is_read_from_its_signature():
    v4 = "http://s3/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261129T120000Z&X-Amz-Expires=300&X-Amz-Signature=x"
    assert stream.url_expiry(v4) == 1795953600 + 300
    assert stream.url_expiry("http://s3/b/k?AWSAccessKeyId=a&Signature=s&Expires=1795950612") == 1795950612
    assert stream.url_expiry("http://lab-server/files/k") is None  # never renewed before use
