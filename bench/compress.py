"""Benchmark onecloud's compression job against ``mtscomp.compress`` on a synthetic Neuropixels 1.0 probe.

    .venv/bin/python bench/compress.py [--seconds 20] [--threads 2] [--repeats 2]

It writes an AP-band recording (385 int16 channels at 30 kHz: band-limited noise, a common-mode
reference component, spiking units seen on neighbouring channels, a digital sync channel; white noise
would not do, it compresses unlike what labs record), compresses it with both at the same thread count,
each run in its own process so that its peak memory is its own, and again at twice the length to show
that ours does not grow with the recording. It prints a table and exits non-zero when a target is
missed: a ratio at least mtscomp's; at least 3x mtscomp's throughput, both checking their own output
(mtscomp decodes the written file, ours inflates each chunk as it writes it; the table also times a
full ``verify`` after ours); peak memory at twice the length within 10% + 16 MB, and under 1 GiB.
Throughput is wall-clock: on a machine busy with other work, raise ``--repeats`` (the fastest counts).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

SAMPLE_RATE = 30_000
N_CHANNELS = 385  # 384 electrodes and the sync channel, as Neuropixels 1.0 saves them
MICROVOLTS_PER_COUNT = 0.6 / 512 / 500 * 1e6  # NP1.0 AP band: +-0.6 V over 10 bits at gain 500
NOISE_MICROVOLTS = 18.0  # electrode and background (multi-unit) noise of an AP channel in the brain
COMMON_MODE_MICROVOLTS = 6.0  # the shared reference noise that IBL's destriping removes
N_UNITS = 300
TAPS = 257  # band-pass FIR length: chunks filter seamlessly by overlap-save

THROUGHPUT_FACTOR = 3.0
MEMORY_SLACK, MEMORY_CONSTANT_MB = 0.10, 16.0
PROCESSES = ("mtscomp", "onecloud")  # the second also times verify() after compress()


def synthesize(path: Path, seconds: int, seed: int = 0) -> None:
    """Write ``seconds`` of a synthetic probe to ``path``, one second at a time (bounded memory)."""
    rng = np.random.default_rng(seed)
    electrodes = N_CHANNELS - 1
    spike_band, reference_band = _band_pass(300, 6000), _band_pass(300, 3000)
    units = _units(rng, electrodes)
    noise_tail = rng.standard_normal((electrodes, TAPS - 1), dtype=np.float32)
    reference_tail = rng.standard_normal(TAPS - 1, dtype=np.float32)
    reference_gain = rng.uniform(0.8, 1.2, electrodes).astype(np.float32)
    sync_state, next_toggle = 0, 0
    with open(path, "wb") as out:
        for second in range(seconds):
            white = rng.standard_normal((electrodes, SAMPLE_RATE), dtype=np.float32)
            white_reference = rng.standard_normal(SAMPLE_RATE, dtype=np.float32)
            signal = _filter(np.concatenate([noise_tail, white], axis=1), spike_band).T * NOISE_MICROVOLTS
            reference = _filter(np.concatenate([reference_tail, white_reference]), reference_band)
            signal += (reference * COMMON_MODE_MICROVOLTS)[:, None] * reference_gain
            noise_tail, reference_tail = white[:, -(TAPS - 1) :], white_reference[-(TAPS - 1) :]
            _add_spikes(rng, signal, units)
            block = np.empty((SAMPLE_RATE, N_CHANNELS), np.int16)
            block[:, :electrodes] = np.clip(np.round(signal / MICROVOLTS_PER_COUNT), -512, 511)
            sync = np.empty(SAMPLE_RATE, np.int16)
            position = 0
            while position < SAMPLE_RATE:  # a TTL toggling about every half second, as rigs' sync pulses do
                stop = min(SAMPLE_RATE, next_toggle - second * SAMPLE_RATE)
                sync[position:stop] = sync_state
                if stop < SAMPLE_RATE:
                    sync_state ^= 1
                    next_toggle += int(rng.integers(SAMPLE_RATE // 4, SAMPLE_RATE))
                position = stop
            block[:, electrodes] = sync
            out.write(block.tobytes())


def _band_pass(low: float, high: float) -> np.ndarray:
    """Windowed-sinc band-pass FIR, normalised to unit noise gain."""
    t = np.arange(TAPS) - (TAPS - 1) / 2
    kernel = (
        2 * high * np.sinc(2 * high * t / SAMPLE_RATE) - 2 * low * np.sinc(2 * low * t / SAMPLE_RATE)
    ) / SAMPLE_RATE
    kernel *= np.hamming(TAPS)
    return (kernel / np.sqrt(np.sum(kernel**2))).astype(np.float32)


def _filter(padded: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Overlap-save convolution along the last axis: ``padded`` starts with the previous block's last
    TAPS - 1 samples, so consecutive blocks join without a seam."""
    length = padded.shape[-1]  # a circular convolution of this length is linear past the first TAPS - 1
    filtered = np.fft.irfft(np.fft.rfft(padded) * np.fft.rfft(kernel, length), length)
    return filtered[..., TAPS - 1 :].astype(np.float32)


def _units(rng: np.random.Generator, electrodes: int) -> list[tuple[float, np.ndarray, slice]]:
    """Each unit: its firing rate and its waveform (trough, then repolarisation) on the channels near it."""
    t = np.arange(-30, 60) / SAMPLE_RATE * 1e3  # ms
    units = []
    for _ in range(N_UNITS):
        centre = int(rng.integers(0, electrodes))
        amplitude = float(rng.lognormal(np.log(60), 0.5))  # microvolts at the peak channel
        width = float(rng.uniform(0.08, 0.2))  # ms
        spread = float(rng.uniform(2, 6))  # channels
        rate = float(rng.lognormal(np.log(4), 0.8))  # Hz
        shape = -np.exp(-0.5 * (t / width) ** 2) + 0.3 * np.exp(-0.5 * ((t - 0.5) / (2.5 * width)) ** 2)
        channels = slice(max(0, centre - 15), min(electrodes, centre + 16))
        footprint = np.exp(-0.5 * ((np.arange(channels.start, channels.stop) - centre) / spread) ** 2)
        units.append((rate, (amplitude * shape[:, None] * footprint[None, :]).astype(np.float32), channels))
    return units


def _add_spikes(rng: np.random.Generator, signal: np.ndarray, units: list) -> None:
    for rate, waveform, channels in units:
        for start in rng.integers(0, SAMPLE_RATE - len(waveform), rng.poisson(rate)):
            signal[start : start + len(waveform), channels] += waveform


def measure(run: str, bin_path: Path, threads: int) -> dict[str, dict]:
    """Runs in this process: for each, its seconds, CPU seconds, output bytes and peak resident memory."""
    cbin, ch = bin_path.with_suffix(f".{run}.cbin"), bin_path.with_suffix(f".{run}.ch")
    figures: dict[str, dict] = {}
    start, cpu_start = time.perf_counter(), _cpu_seconds()

    def done(name: str) -> None:
        figures[name] = {
            "seconds": time.perf_counter() - start,
            "cpu_seconds": _cpu_seconds() - cpu_start,
            "cbin_bytes": cbin.stat().st_size,
            "peak_mb": _peak_mb(),
        }

    if run == "mtscomp":
        import mtscomp

        mtscomp.compress(
            bin_path, cbin, ch, sample_rate=float(SAMPLE_RATE), n_channels=N_CHANNELS, dtype="int16",
            n_threads=threads, quiet=True,
        )  # fmt: skip
        done("mtscomp")
    else:
        from batch.compress import compress, verify, write_header
        from batch.spikeglx import Band, Meta, Probe

        n_samples = bin_path.stat().st_size // (2 * N_CHANNELS)
        meta = Meta(N_CHANNELS, float(SAMPLE_RATE), Band.AP, Probe.NP1, 1, n_samples=n_samples)
        with open(cbin, "wb") as out:
            write_header(compress(bin_path, meta, out, threads=threads), ch)
        done("onecloud")
        verify(bin_path, cbin, ch, threads=threads)
        done("onecloud+verify")
    cbin.unlink()
    ch.unlink()
    return figures


def _peak_mb() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec, so a child started by a
    parent that synthesized the data would report the parent's peak: VmHWM is the child's own."""
    status = Path("/proc/self/status")
    if status.exists():
        line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure_in_child(run: str, bin_path: Path, threads: int) -> dict:
    command = [sys.executable, __file__, "--measure", run, "--bin", str(bin_path), "--threads", str(threads)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return json.loads(done.stdout)


def level_sweep() -> list[tuple[float, float, dict[int, float]]]:
    """Ratio of one second at several noise levels: zlib 6 (mtscomp) against zlib-ng levels 4 to 6.

    The margin over zlib depends on the data: it is widest on noisy probes and gone on very quiet ones.
    """
    from zlib_ng import zlib_ng

    from batch.compress import time_diff_by_channel

    rng = np.random.default_rng(1)
    noise = _filter(
        rng.standard_normal((N_CHANNELS, SAMPLE_RATE + TAPS - 1), dtype=np.float32), _band_pass(300, 6000)
    ).T
    rows = []
    for microvolts in (8, 12, 18, 30, 60):
        diffs = time_diff_by_channel(np.round(noise * microvolts / MICROVOLTS_PER_COUNT).astype(np.int16))
        zlib_size = len(zlib.compress(diffs))
        ratios = {level: zlib_size / len(zlib_ng.compress(diffs, level)) for level in (4, 5, 6)}
        rows.append((microvolts, diffs.nbytes / zlib_size, ratios))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=int, default=20, help="length of the shorter recording (default 20)"
    )
    parser.add_argument("--threads", type=int, default=2, help="threads for both compressors (default 2)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each, the fastest counts (default 2)")
    parser.add_argument(
        "--workdir", type=Path, help="where to write the recordings (default: a temporary folder)"
    )
    parser.add_argument("--measure", choices=PROCESSES, help=argparse.SUPPRESS)
    parser.add_argument("--bin", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.bin, args.threads)))
        return 0

    lengths = (args.seconds, 2 * args.seconds)
    results: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        for seconds in lengths:
            bin_path = Path(workdir) / f"probe_{seconds}s.ap.bin"
            print(f"synthesizing {seconds} s of a 385-channel probe...", file=sys.stderr)
            synthesize(bin_path, seconds)
            repeats = args.repeats if seconds == args.seconds else 1  # the longer one is for memory
            for repeat in range(repeats):
                for process in PROCESSES:  # alternated, so that a busy spell on the machine slows both
                    print(f"  {process}, {seconds} s, run {repeat + 1}/{repeats}...", file=sys.stderr)
                    for run, figures in _measure_in_child(process, bin_path, args.threads).items():
                        figures["raw_bytes"] = bin_path.stat().st_size
                        best = results.setdefault((run, seconds), figures)
                        peak_mb = max(figures["peak_mb"], best["peak_mb"])
                        if figures["seconds"] < best["seconds"]:
                            results[run, seconds] = figures
                        results[run, seconds]["peak_mb"] = peak_mb
            bin_path.unlink()
    return report(results, lengths, args.threads)


def report(results: dict[tuple[str, int], dict], lengths: tuple[int, int], threads: int) -> int:
    """Print the table and the targets; 1 when a target is missed."""
    from batch.compress import LEVEL

    names = {
        "mtscomp": "mtscomp.compress 1.0.2, defaults (zlib 6; its check decodes the file)",
        "onecloud": f"onecloud compress (zlib-ng {LEVEL}; its check inflates each chunk)",
        "onecloud+verify": "onecloud compress, then verify (mtscomp.Reader decodes the file)",
    }
    print(f"\nEvery run on {threads} threads; MB/s of raw data, fastest of the runs; peak RSS, highest.")
    print("| run | length | ratio | MB/s | CPU s | peak RSS (MB) |\n|---|---|---|---|---|---|")
    for (run, seconds), r in sorted(
        results.items(), key=lambda item: (item[0][1], list(names).index(item[0][0]))
    ):
        r["ratio"] = r["raw_bytes"] / r["cbin_bytes"]
        r["throughput"] = r["raw_bytes"] / r["seconds"] / 1e6
        print(
            f"| {names[run]} | {seconds} s ({r['raw_bytes'] / 1e9:.2f} GB) | {r['ratio']:.3f} | "
            f"{r['throughput']:.1f} | {r['cpu_seconds']:.1f} | {r['peak_mb']:.0f} |"
        )
    print("\nSize of one compressed second against mtscomp's (zlib 6) by noise level (negative: smaller):")
    print("| AP noise (uV rms) | mtscomp ratio | zlib-ng 4 | zlib-ng 5 | zlib-ng 6 |\n|---|---|---|---|---|")
    for microvolts, ratio, relative in level_sweep():
        sizes = " | ".join(f"{1 / relative[level] - 1:+.1%}" for level in (4, 5, 6))
        print(f"| {microvolts:.0f} | {ratio:.2f} | {sizes} |")

    short, long = lengths
    ours, theirs = results["onecloud", short], results["mtscomp", short]
    verified = results["onecloud+verify", short]
    memory_limit = verified["peak_mb"] * (1 + MEMORY_SLACK) + MEMORY_CONSTANT_MB
    long_peak = results["onecloud+verify", long]["peak_mb"]
    print(
        f"\nwith verify after it, onecloud runs at x{verified['throughput'] / theirs['throughput']:.2f} "
        f"mtscomp's throughput, for x{theirs['cpu_seconds'] / verified['cpu_seconds']:.2f} less CPU"
    )
    targets = [
        (f"ratio {ours['ratio']:.3f} >= mtscomp's {theirs['ratio']:.3f}", ours["ratio"] >= theirs["ratio"]),
        (
            f"throughput {ours['throughput']:.1f} MB/s >= {THROUGHPUT_FACTOR:g}x mtscomp's "
            f"{theirs['throughput']:.1f} MB/s (x{ours['throughput'] / theirs['throughput']:.2f})",
            ours["throughput"] >= THROUGHPUT_FACTOR * theirs["throughput"],
        ),
        (
            f"peak memory at {long} s {long_peak:.0f} MB <= {memory_limit:.0f} MB "
            f"(at {short} s + {MEMORY_SLACK:.0%} + {MEMORY_CONSTANT_MB:.0f} MB), under 1 GiB",
            long_peak <= min(memory_limit, 1024),
        ),
    ]
    print()
    for description, met in targets:
        print(f"{'met   ' if met else 'MISSED'} {description}")
    return 0 if all(met for _, met in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
