"""Sorted probes on the website: the list of sorted probes, a probe page (depth plots, the cluster table
sortable by any metric with a good-unit filter, the raw-data viewer) and a cluster page (waveform,
autocorrelogram, amplitude over time, rasters and PSTHs). Everything drawn comes from the summaries the
EphysSummary job stored (``chalicelib.ephys``); the raw viewer streams the recording in the browser."""

from __future__ import annotations

import json
import math
from typing import Any

from chalice import Response

from chalicelib import ephys
from chalicelib.errors import BadRequest
from chalicelib.sessions import get_session
from chalicelib.tasks import tasks_of_lab
from chalicelib.web import ephys_charts as charts
from chalicelib.web.pages import Web, nav, page, render
from chalicelib.web.views.common import labs_shown

nav("Ephys", "/ephys", order=70)

ALIGN_LABELS = {"stimOn": "stimulus onset", "firstMovement": "first movement", "feedback": "feedback"}
SORTS = {  # raster row orders of §6.4: trial fields, or a time difference (the second event is marked)
    "trial": ("trial number", None),
    "contrast": ("signed contrast", None),
    "feedback": ("feedback type", None),
    "rt": ("response - stimulus onset", ("response_times", "stimOn")),
    "feedback_stim": ("feedback - stimulus onset", ("feedback", "stimOn")),
    "feedback_response": ("feedback - response", ("feedback", "response_times")),
    "movement_stim": ("movement - stimulus onset", ("firstMovement", "stimOn")),
    "feedback_movement": ("feedback - movement", ("feedback", "firstMovement")),
}


def _session_title(eid: str) -> str:
    session = get_session(eid)
    return f"{session.subject} {session.start_time[:10]} #{int(session.number)}"


@page("/ephys")
def sorted_sessions(web: Web) -> Response:
    """The probes whose summary was computed, newest first, per lab shown to this user."""
    labs = []
    for lab in labs_shown(web):
        done = [t for t in tasks_of_lab(lab, "Complete") if t.name.startswith("EphysSummary_")]
        done.sort(key=lambda t: t.datetime or "", reverse=True)
        rows = [
            {
                "eid": t.session,
                "probe": t.name.split("_", 1)[1],
                "title": _session_title(t.session),
                "when": t.datetime,
            }
            for t in done[:200]
        ]
        labs.append({"name": lab, "rows": rows})
    return render(web, "ephys_sessions.html", title="Sorted probes", labs=labs)


def _number(value: Any) -> float:
    return (
        value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        else -math.inf
    )


@page("/sessions/{eid}/probes/{probe}", name="probe_page")
def probe_page(web: Web, eid: str, probe: str) -> Response:
    summary = ephys.probe_summary(web.principal, eid, probe)
    base = f"/sessions/{eid}/probes/{probe}"
    columns = ["cluster_id", *[m for m in summary["metrics"] if m != "good"], "good"]
    sort = web.query.get("sort", "firing_rate")
    if sort not in columns:
        raise BadRequest(f"sort: {sort!r} is not a column of the cluster table ({', '.join(columns)})")
    descending = web.query.get("order", "desc") != "asc"
    good_only = web.query.get("good") == "1"
    clusters = [row for row in summary["clusters"] if row["good"] or not good_only]
    clusters.sort(key=lambda row: _number(row.get(sort)), reverse=descending)
    rows = summary["clusters"]
    raster = summary["depth_raster"]
    profile = summary["depth_profile"]
    figures = {
        "raster": charts.heatmap(
            "Depth raster: spikes along the probe over the session",
            raster["rates"], raster["time_edges"], raster["depth_edges"],
            "time (s)", "depth (µm)", "spikes/s", marks=raster["example_trials"], width=760,
        ),
        "rate": charts.profile("Firing rate by depth", profile["depths"], profile["firing_rate"], "spikes/s"),
        "amplitude": charts.profile(
            "Amplitude by depth", profile["depths"], profile["amplitude_uV"], "median amplitude (µV)"
        ),
        "clusters": charts.scatter(
            "Clusters: amplitude and depth (colour: firing rate)",
            [r["amp_median_uV"] for r in rows], [r["depth"] for r in rows],
            "median amplitude (µV)", "depth (µm)",
            shades=[r["firing_rate"] for r in rows],
            links=[web.url(f"{base}/clusters/{r['cluster_id']}") for r in rows],
        ),
    }  # fmt: skip
    peths = [
        charts.heatmap(
            f"Depth PETH around {ALIGN_LABELS[name]}",
            peth["normalised"], _edges(peth["times"]), peth["depth_edges"],
            f"time from {ALIGN_LABELS[name]} (s)", "depth (µm)", "Δ spikes/s",
            diverging=True, width=420, height=360,
        )
        for name, peth in (summary.get("depth_peths") or {}).items()
        if peth
    ]  # fmt: skip
    return render(
        web,
        "ephys_probe.html",
        title=f"{probe} · {_session_title(eid)}",
        eid=eid,
        probe=probe,
        base=base,
        summary=summary,
        figures=figures,
        peths=peths,
        columns=columns,
        clusters=clusters,
        sort=sort,
        descending=descending,
        good_only=good_only,
        criteria=summary["good_unit_criteria"],
    )


def _edges(centres: list[float]) -> list[float]:
    step = centres[1] - centres[0] if len(centres) > 1 else 0.025
    return [centres[0] - step / 2, *[c + step / 2 for c in centres]]


@page("/sessions/{eid}/probes/{probe}/clusters/{cluster}", name="cluster_page")
def cluster_page(web: Web, eid: str, probe: str, cluster: str) -> Response:
    if not cluster.isdigit():
        raise BadRequest(f"cluster: {cluster!r} is not a cluster number")
    entry = ephys.cluster_summary(web.principal, eid, probe, int(cluster))
    align = web.query.get("align", "stimOn")
    sort = web.query.get("sort", "trial")
    if align not in ALIGN_LABELS:
        raise BadRequest(f"align: choose one of {', '.join(ALIGN_LABELS)}")
    if sort not in SORTS:
        raise BadRequest(f"sort: choose one of {', '.join(SORTS)}")
    acg = entry["acg"]
    amplitude = entry["amplitude_time"]
    figures = {
        "waveform": charts.waveforms(f"Template of cluster {cluster}", entry["waveform"]),
        "acg": charts.bars("Autocorrelogram", acg["lags_ms"], acg["counts"], "lag (ms)", "spike pairs"),
        "amplitude": charts.scatter(
            "Amplitude over time", amplitude["times"], amplitude["amps_uV"], "time (s)", "amplitude (µV)",
            width=520, height=240, radius=1.5,
        ),
    }  # fmt: skip
    rasters = ""
    trials = entry.get("trials")
    if trials and align in entry.get("alignments", {}):
        order, second = raster_order(trials, sort, align)
        rasters = charts.raster_and_psth(
            f"Raster around {ALIGN_LABELS[align]}, sorted by {SORTS[sort][0]}",
            entry["alignments"][align], order, ALIGN_LABELS[align], second,
        )  # fmt: skip
    base = f"/sessions/{eid}/probes/{probe}"
    return render(
        web,
        "ephys_cluster.html",
        title=f"Cluster {cluster} · {probe} · {_session_title(eid)}",
        eid=eid,
        probe=probe,
        base=base,
        cluster=int(cluster),
        metrics=entry["metrics"],
        figures=figures,
        rasters=rasters,
        has_trials=bool(trials),
        align=align,
        sort=sort,
        aligns=ALIGN_LABELS,
        sorts={k: v[0] for k, v in SORTS.items()},
    )


def raster_order(trials: dict[str, list], sort: str, align: str) -> tuple[list[int], list[float | None]]:
    """Row order of the raster and, for a time-difference sort, the second event relative to ``align``."""
    n = len(trials["trial"])
    key_field = {"contrast": "signed_contrast", "feedback": "feedbackType"}.get(sort)
    second: list[float | None] = [None] * n
    if key_field:
        keys = [trials[key_field][i] for i in range(n)]
    elif SORTS[sort][1]:
        late, early = SORTS[sort][1]
        keys = [_difference(trials, late, early, i) for i in range(n)]
        second = [_difference(trials, late, align, i) for i in range(n)]
    else:
        keys = list(range(n))
    order = sorted(range(n), key=lambda i: (keys[i] is None, keys[i] if keys[i] is not None else 0, i))
    return order, second


def _difference(trials: dict[str, list], late: str, early: str, i: int) -> float | None:
    a, b = (trials.get(late) or [None] * (i + 1))[i], (trials.get(early) or [None] * (i + 1))[i]
    return a - b if a is not None and b is not None else None


# --- the raw-data viewer's data (JSON) ---------------------------------------------------------------------


def _json(payload: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(payload),
        status_code=200,
        headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
    )


@page("/sessions/{eid}/probes/{probe}/raw.json", name="raw_source")
def raw_source(web: Web, eid: str, probe: str) -> Response:
    """The presigned URL of the probe's ``.cbin`` and its chunk table: the browser streams the rest."""
    return _json(ephys.raw_source(web.principal, eid, probe))


@page("/sessions/{eid}/probes/{probe}/spikes.json", name="window_spikes")
def window_spikes(web: Web, eid: str, probe: str) -> Response:
    try:
        start, duration = float(web.query.get("start", "0")), float(web.query.get("duration", "1"))
    except ValueError:
        raise BadRequest("start and duration are numbers of seconds") from None
    return _json(ephys.spikes_in_window(web.principal, eid, probe, start, duration))
