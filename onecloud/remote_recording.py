"""A probe in the store as a SpikeInterface recording, read with streaming reads.

``StreamedRecording(eid, "probe00")`` is a ``BaseRecording``: ``get_traces`` fetches only the chunks a
call needs (``onecloud.stream``), so preprocessing, waveform extraction or a sorter can run on a remote
probe without downloading it. Gains (uV per count) and the probe's geometry come from the ``.meta``, as
SpikeInterface's own SpikeGLX and IBL readers set them; the sync channel is left out unless asked for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import probeinterface
from spikeinterface.core import BaseRecording, BaseRecordingSegment

from onecloud import stream
from onecloud.client import api_url


class StreamedRecording(BaseRecording):
    """The ``band`` of ``raw_ephys_data/<probe>`` of session ``eid``, streamed (see ``stream.open_probe``
    for ``url``, ``public`` and ``release``). Its kwargs re-open it, so parallel jobs work too."""

    def __init__(
        self,
        eid: str,
        probe: str,
        *,
        url: str | None = None,
        public: bool = False,
        release: str | None = None,
        band: str = "ap",
        load_sync_channel: bool = False,
    ) -> None:
        remote = stream.open_probe(eid, probe, url=url, public=public, release=release, band=band)
        meta = remote.meta
        n_channels = meta.n_channels if load_sync_channel else meta.n_channels - meta.n_sync_channels
        names = [f"{band.upper()}{i}" for i in range(meta.n_channels - meta.n_sync_channels)]
        names += [f"SY{i}" for i in range(meta.n_sync_channels)]
        BaseRecording.__init__(
            self,
            sampling_frequency=remote.sample_rate,
            channel_ids=names[:n_channels],
            dtype=remote.header.dtype,
        )
        self.add_recording_segment(StreamedSegment(remote, n_channels))
        self.set_channel_gains(remote.volts_per_count[:n_channels] * 1e6)
        self.set_channel_offsets(np.zeros(n_channels))
        if not load_sync_channel:
            self._attach_probe(meta)
        self.remote = remote
        self._kwargs: dict[str, Any] = {
            "eid": eid,
            "probe": probe,
            "url": api_url(url),
            "public": public,
            "release": release,
            "band": band,
            "load_sync_channel": load_sync_channel,
        }

    def _attach_probe(self, meta: Any) -> None:
        """The geometry probeinterface reads from the ``.meta`` (it wants a file, so a temporary one)."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "recording.ap.meta"
            path.write_text("".join(f"{key}={value}\n" for key, value in meta.values.items()))
            probe = probeinterface.read_spikeglx(path)
        if probe.get_contact_count() == self.get_num_channels():
            self.set_probe(probe)


class StreamedSegment(BaseRecordingSegment):
    def __init__(self, remote: stream.Recording, n_channels: int) -> None:
        BaseRecordingSegment.__init__(self, sampling_frequency=remote.sample_rate)
        self.remote, self.n_channels = remote, n_channels

    def get_num_samples(self) -> int:
        return self.remote.n_samples

    def get_traces(
        self, start_frame: int | None = None, end_frame: int | None = None, channel_indices: Any = None
    ) -> np.ndarray:
        start = 0 if start_frame is None else int(start_frame)
        stop = self.remote.n_samples if end_frame is None else int(end_frame)
        channels = (
            np.arange(self.n_channels)
            if channel_indices is None
            else np.arange(self.n_channels)[channel_indices]
        )
        return self.remote.read(start, stop, channels)
