// The raw-data viewer of the probe page: streaming reads in the browser, as onecloud.stream reads in Python.
// It gets a presigned URL of the probe's .cbin and its .ch chunk table from the page's JSON, asks the
// store (HTTP Range) for only the compressed chunks that cover the window, inflates them (zlib, with the
// browser's DecompressionStream), undoes mtscomp's diffs, and draws channels by time with the sorting's
// spikes on top.
"use strict";

(function () {
  const viewer = document.getElementById("raw-viewer");
  if (!viewer) return;
  const form = document.getElementById("raw-form");
  const status = document.getElementById("raw-status");
  const canvas = document.getElementById("raw-canvas");
  const volts = JSON.parse(viewer.dataset.volts || "null");
  let source = null;

  function bisectRight(array, value) {
    let low = 0, high = array.length;
    while (low < high) { const mid = (low + high) >> 1; if (value < array[mid]) high = mid; else low = mid + 1; }
    return low;
  }

  async function getSource() {
    if (!source) {
      const answer = await fetch(viewer.dataset.source, { credentials: "same-origin" });
      if (!answer.ok) throw new Error("the recording is not readable (" + answer.status + ")");
      source = await answer.json();
    }
    return source;
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Int16Array(await new Response(stream).arrayBuffer());
  }

  // mtscomp: each chunk holds (samples x channels) int16, diffed along channels then time; int16 wraps
  function undoDiffs(data, nSamples, nChannels, header) {
    if (header.do_spatial_diff) {
      for (let s = 0; s < nSamples; s++) {
        const row = s * nChannels;
        for (let c = 1; c < nChannels; c++) data[row + c] = data[row + c] + data[row + c - 1];
      }
    }
    if (header.do_time_diff) {
      for (let s = 1; s < nSamples; s++) {
        const row = s * nChannels, previous = row - nChannels;
        for (let c = 0; c < nChannels; c++) data[row + c] = data[row + c] + data[previous + c];
      }
    }
    return data;
  }

  async function readWindow(start, duration) {
    const { url, header } = await getSource();
    const bounds = header.chunk_bounds, offsets = header.chunk_offsets, nChannels = header.n_channels;
    const total = bounds[bounds.length - 1];
    const first = Math.min(Math.round(start * header.sample_rate), total - 1);
    const stop = Math.min(first + Math.max(Math.round(duration * header.sample_rate), 1), total);
    const firstChunk = bisectRight(bounds, first) - 1, lastChunk = bisectRight(bounds, stop - 1) - 1;
    const range = "bytes=" + offsets[firstChunk] + "-" + (offsets[lastChunk + 1] - 1);
    const answer = await fetch(url, { headers: { Range: range } });
    if (answer.status !== 206 && answer.status !== 200) throw new Error("the store answered " + answer.status);
    const body = new Uint8Array(await answer.arrayBuffer());
    const out = new Int16Array((stop - first) * nChannels);
    for (let k = firstChunk; k <= lastChunk; k++) {
      const compressed = body.subarray(offsets[k] - offsets[firstChunk], offsets[k + 1] - offsets[firstChunk]);
      const n = bounds[k + 1] - bounds[k];
      const chunk = undoDiffs(await inflate(compressed), n, nChannels, header);
      const a = Math.max(first, bounds[k]), b = Math.min(stop, bounds[k + 1]);
      out.set(chunk.subarray((a - bounds[k]) * nChannels, (b - bounds[k]) * nChannels), (a - first) * nChannels);
    }
    return { data: out, first, nSamples: stop - first, nChannels, rate: header.sample_rate, bytes: body.length };
  }

  function draw(window_, spikes) {
    const { data, nSamples, nChannels } = window_;
    const shown = volts ? Math.max(nChannels - 1, 1) : nChannels; // the sync channel is left out
    const context = canvas.getContext("2d");
    const width = canvas.width, height = canvas.height;
    const image = context.createImageData(width, height);
    const microvolts = new Float32Array(shown);
    for (let c = 0; c < shown; c++) microvolts[c] = volts ? volts[c] * 1e6 : 1;
    const means = new Float32Array(shown);
    for (let s = 0; s < nSamples; s++) for (let c = 0; c < shown; c++) means[c] += data[s * nChannels + c];
    for (let c = 0; c < shown; c++) means[c] /= nSamples;
    // grey scale: +-3 robust SDs of the window (median absolute value / 0.6745), at least 10 uV
    const sample = [];
    for (let i = 0; i < 4000; i++) {
      const s = Math.floor(Math.random() * nSamples), c = Math.floor(Math.random() * shown);
      sample.push(Math.abs((data[s * nChannels + c] - means[c]) * microvolts[c]));
    }
    sample.sort((a, b) => a - b);
    const scale = Math.max(10, (3 * sample[sample.length >> 1]) / 0.6745);
    window_.scale = scale;
    for (let x = 0; x < width; x++) {
      const s = Math.min(Math.floor((x * nSamples) / width), nSamples - 1);
      for (let y = 0; y < height; y++) {
        const c = Math.min(Math.floor(((height - 1 - y) * shown) / height), shown - 1);
        const value = (data[s * nChannels + c] - means[c]) * microvolts[c];
        const grey = Math.max(0, Math.min(255, 128 - (value / scale) * 127));
        const i = (y * width + x) * 4;
        image.data[i] = image.data[i + 1] = image.data[i + 2] = grey;
        image.data[i + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
    let drawn = 0;
    if (spikes) {
      const start = window_.first / window_.rate, seconds = nSamples / window_.rate;
      for (let i = 0; i < spikes.times.length; i++) {
        const channel = spikes.channels[i];
        if (channel === null || channel === undefined) continue;
        const x = ((spikes.times[i] - start) / seconds) * width;
        const y = height - ((channel + 0.5) / shown) * height;
        context.strokeStyle = "hsl(" + ((spikes.clusters[i] * 47) % 360) + ", 90%, 45%)";
        context.lineWidth = 2;
        context.beginPath();
        context.arc(x, y, 5, 0, 2 * Math.PI);
        context.stroke();
        drawn++;
      }
    }
    return drawn;
  }

  async function show(event) {
    if (event) event.preventDefault();
    const start = parseFloat(form.elements.start.value), duration = parseFloat(form.elements.duration.value);
    status.textContent = "Reading " + duration + " s from " + start + " s…";
    viewer.dataset.state = "loading";
    try {
      const began = performance.now();
      const window_ = await readWindow(start, duration);
      let spikes = null;
      if (form.elements.spikes.value === "1") {
        const query = "?start=" + window_.first / window_.rate + "&duration=" + window_.nSamples / window_.rate;
        const answer = await fetch(viewer.dataset.spikes + query, { credentials: "same-origin" });
        if (answer.ok) spikes = await answer.json();
      }
      const drawn = draw(window_, spikes);
      const seconds = ((performance.now() - began) / 1000).toFixed(2);
      status.textContent = (window_.nSamples / window_.rate).toFixed(3) + " s from " + (window_.first / window_.rate).toFixed(3) +
        " s: " + window_.nChannels + " channels, " + (window_.bytes / 1e6).toFixed(2) + " MB read in " + seconds + " s" +
        (spikes ? ", " + drawn + " spikes" : "") + ". Channel 0 at the bottom; grey scale ±" + Math.round(window_.scale) + (volts ? " µV." : " counts.");
      viewer.dataset.state = "drawn";
      viewer.dataset.spikesDrawn = String(drawn);
      viewer.dataset.bytes = String(window_.bytes);
    } catch (error) {
      status.textContent = "Could not read the window: " + error.message;
      viewer.dataset.state = "error";
    }
  }

  form.addEventListener("submit", show);
})();
