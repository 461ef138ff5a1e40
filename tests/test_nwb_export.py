"""A session exported to NWB as Batch runs it: ``POST /sessions/<id>/nwb`` queues an ExportNWB task, the job
writes one NWB file from the session's real ALF files (SWC_054's trials, a real wheel recording, IBL's
spike-times fixture on a real Neuropixels 3B geometry) and registers it as the session's dataset; the file
passes nwbinspector with no critical or violation-level finding, and pynwb reads back the same trials,
wheel and spikes as the ALF files, with the subject as DANDI asks for it."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import probeinterface
import pytest
from pynwb import NWBHDF5IO

from app import app
from batch import export_nwb, jobs
from chalicelib import aws, pipeline
from chalicelib.datasets import datasets_of_session
from chalicelib.models import Task
from chalicelib.sharing import nwb
from onecloud.pump import EventPump
from tests.behaviour_data import SWC_054, swc_054_table

LAB, SUBJECT, DATE = "cortexlab", "SWC_054", "2020-08-21"
FIXTURES = SWC_054.parents[1]
SESSION = f"{LAB}/Subjects/{SUBJECT}/{DATE}/001"
META = FIXTURES / "spikeglx" / "sample3B_g0_t0.imec1.ap.meta"


def npy(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values)
    return buffer.getvalue()


def land(files: dict[str, bytes]) -> None:
    for relative, body in files.items():
        aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{relative}", Body=body)
    EventPump(app).drain()


def sorting_files() -> dict[str, bytes]:
    """IBL's spike-times fixture as a sorting of probe00; its clusters sit on the channels of a real 3B
    probe (the fixture has no amplitudes: each cluster's channel and depth are spread over the probe)."""
    spikes = np.load(FIXTURES / "ephys" / "spikes_events.npz")
    geometry = probeinterface.read_spikeglx(META).contact_positions
    n = int(spikes["spike_clusters"].max()) + 1
    channels = (np.arange(n) * 7) % len(geometry)
    folder = f"alf/probe00/{aws.settings().sorter}"
    return {
        f"{folder}/spikes.times.npy": npy(spikes["spike_times"]),
        f"{folder}/spikes.clusters.npy": npy(spikes["spike_clusters"]),
        f"{folder}/clusters.channels.npy": npy(channels),
        f"{folder}/clusters.depths.npy": npy(geometry[channels, 1]),
        f"{folder}/channels.localCoordinates.npy": npy(geometry),
    }


def wheel_files() -> dict[str, bytes]:
    wheel = np.load(FIXTURES / "behaviour" / "wheel" / "fpga.npz")
    return {
        "alf/_ibl_wheel.timestamps.npy": npy(wheel["timestamps"]),
        "alf/_ibl_wheel.position.npy": npy(wheel["position"]),
        "alf/_ibl_wheelMoves.intervals.npy": npy(np.c_[wheel["move_onsets"], wheel["move_offsets"]]),
        "alf/_ibl_wheelMoves.peakAmplitude.npy": npy(wheel["move_amplitudes"]),
    }


def run_export(task_id: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """What Batch and the job runner do; the event path registers the file while the job waits."""
    waits = jobs.Job.wait_registered

    def wait_registered(job, relative, md5, timeout=jobs.REGISTRATION_WAIT):
        EventPump(app).drain()
        return waits(job, relative, md5, timeout)

    monkeypatch.setattr(jobs.Job, "wait_registered", wait_registered)
    code = jobs.run(export_nwb.export, [task_id])
    status = "SUCCEEDED" if code == 0 else "FAILED"
    pipeline.on_job_state(
        {"jobId": Task.get(task_id).job_id, "status": status, "parameters": {"task_id": task_id}}
    )
    return code


@pytest.fixture
def session(api) -> str:
    api.post("/species", {"name": "Laboratory mouse", "latin_name": "Mus musculus"})
    subject = {
        "nickname": SUBJECT,
        "lab": LAB,
        "sex": "M",
        "birth_date": "2020-05-01",
        "species": "Laboratory mouse",
    }
    assert api.post("/subjects", subject).status_code == 201
    assert (
        api.post(
            "/weighings", {"subject": SUBJECT, "weight": 22.4, "date_time": f"{DATE}T08:00:00"}
        ).status_code
        == 201
    )
    created = api.post(
        "/sessions",
        {"subject": SUBJECT, "start_time": f"{DATE}T09:00:00", "end_time": f"{DATE}T09:52:00", "number": 1,
         "task_protocol": "_iblrig_tasks_trainingChoiceWorld6.4.2", "users": ["alice"],
         "narrative": "Mouse calm; 719 trials.", "projects": []},
        user="alice",
    )  # fmt: skip
    assert created.status_code == 201, created.json_body
    return created.json_body["id"]


def exported(api, eid: str, monkeypatch) -> tuple[object, bytes]:
    answer = api.post(f"/sessions/{eid}/nwb", user="alice")
    assert answer.status_code == 202, answer.json_body
    assert (answer.json_body["name"], answer.json_body["status"]) == ("ExportNWB", "Waiting")
    assert run_export(answer.json_body["id"], monkeypatch) == 0, Task.get(answer.json_body["id"]).log
    found = [d for d in datasets_of_session(eid) if d.collection == "nwb"]
    assert [d.relative_path for d in found] == [f"nwb/session.nwb.{SUBJECT}_{DATE}_001.nwb"]
    body = (
        aws.client("s3")
        .get_object(Bucket=aws.settings().data_bucket, Key=f"{SESSION}/{found[0].relative_path}")["Body"]
        .read()
    )
    return found[0], body


def test_a_sorted_session_exports_to_an_nwb_file_that_reads_back_as_its_alf_files(
    api, session, monkeypatch, tmp_path
):
    table = pd.read_parquet(swc_054_table(DATE))
    land({"alf/_ibl_trials.table.pqt": swc_054_table(DATE).read_bytes()})
    land({"alf/_ibl_trials.goCue_times.npy": npy(table["stimOn_times"].to_numpy() - 0.01)})
    land(wheel_files() | sorting_files())
    land({"raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec1.ap.meta": META.read_bytes()})

    dataset, body = exported(api, session, monkeypatch)
    path = tmp_path / "session.nwb"
    path.write_bytes(body)
    assert dataset.file_size == len(body) and dataset.dataset_type == "session.nwb"

    findings = nwb.inspect(path)
    assert nwb.severe(findings) == [], findings

    spikes = np.load(FIXTURES / "ephys" / "spikes_events.npz")
    wheel = np.load(FIXTURES / "behaviour" / "wheel" / "fpga.npz")
    with NWBHDF5IO(str(path), "r") as io_:
        nwbfile = io_.read()
        trials = nwbfile.trials.to_dataframe()
        assert len(trials) == len(table) == 719
        # IBL-to-NWB's order for the attributes present, after the interval
        assert list(trials.columns) == [
            "start_time", "stop_time", "choice", "feedback_type", "contrast_left", "contrast_right",
            "probability_left", "response_time", "stim_on_time", "go_cue_time",
        ]  # fmt: skip
        for alf_name, column in (
            ("choice", "choice"),
            ("feedbackType", "feedback_type"),
            ("contrastLeft", "contrast_left"),
            ("contrastRight", "contrast_right"),
            ("probabilityLeft", "probability_left"),
            ("response_times", "response_time"),
            ("stimOn_times", "stim_on_time"),
        ):
            np.testing.assert_array_equal(
                trials[column].to_numpy(), table[alf_name].to_numpy(), err_msg=column
            )
        assert (trials["stop_time"] > trials["start_time"]).all()
        assert "no trials.intervals" in nwbfile.trials.description
        np.testing.assert_array_equal(
            trials["stop_time"].to_numpy()[:-1], trials["start_time"].to_numpy()[1:]
        )

        position = nwbfile.processing["behavior"]["wheel_position"]
        np.testing.assert_array_equal(position.data[:], wheel["position"])
        np.testing.assert_array_equal(position.timestamps[:], wheel["timestamps"])
        moves = nwbfile.processing["behavior"]["wheel_movements"].to_dataframe()
        np.testing.assert_array_equal(moves["start_time"], wheel["move_onsets"])
        np.testing.assert_array_equal(moves["peak_amplitude"], wheel["move_amplitudes"])

        units = nwbfile.units
        assert (
            sum(len(units.get_unit_spike_times(i)) for i in range(len(units))) == spikes["spike_times"].size
        )
        cluster_5 = np.sort(spikes["spike_times"][spikes["spike_clusters"] == 5])
        np.testing.assert_array_equal(units.get_unit_spike_times(5), cluster_5)
        assert units.resolution == pytest.approx(1 / 30000, rel=1e-3)
        assert len(nwbfile.electrodes) == 384
        peak = units["electrodes"][5]
        assert float(peak["rel_y"].iloc[0]) == units["depth"][5]

        raw = nwbfile.acquisition["raw_ephys_files"].to_dataframe()
        assert list(raw["path"]) == ["raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec1.ap.meta"]

        subject = nwbfile.subject
        assert (subject.subject_id, subject.species, subject.sex, subject.age) == (
            SUBJECT,
            "Mus musculus",
            "M",
            "P112D",
        )
        assert subject.weight == "0.0224 kg"
        assert nwbfile.notes == "Mouse calm; 719 trials."
        assert nwbfile.session_id == session


def test_an_export_is_asked_by_the_sessions_lab_and_a_session_without_data_ends_errored(
    api, session, monkeypatch, capsys
):
    assert api.post(f"/sessions/{session}/nwb", user="bob").status_code == 403
    assert api.post("/sessions/6f0cbd4c-0000-4000-8000-000000000000/nwb", user="alice").status_code == 404
    first = api.post(f"/sessions/{session}/nwb", user="alice").json_body
    again = api.post(f"/sessions/{session}/nwb", user="alice").json_body
    assert again["id"] == first["id"]  # one task per session, asked twice
    assert run_export(first["id"], monkeypatch) == 1
    assert Task.get(first["id"]).status == "Errored"
    assert "has no trials, wheel or spike sorting to export" in capsys.readouterr().err  # the job's log
    assert not [d for d in datasets_of_session(session) if d.collection == "nwb"]


def test_trials_columns_follow_ibl_to_nwbs_order_and_recorded_intervals_bound_each_trial():
    import datetime

    n = 4
    trials = {name: np.arange(n, dtype=float) + i for i, (name, _, _) in enumerate(nwb.TRIALS_COLUMNS)}
    trials["quiescencePeriod"] = np.full(n, 0.5)
    trials["intervals"] = np.c_[np.arange(n) * 10.0, np.arange(n) * 10.0 + 8]
    assert [column for _, column, _ in nwb.trials_columns(trials)] == [
        "choice", "feedback_type", "reward_volume", "contrast_left", "contrast_right", "probability_left",
        "feedback_time", "response_time", "stim_off_time", "stim_on_time", "go_cue_time",
        "go_cue_trigger_time", "first_movement_time", "quiescence_period",
    ]  # fmt: skip
    subject = nwb.SubjectInfo("M1", "Mus musculus", "F", "2020-01-01")
    nwbfile = nwb.new_file(
        nwb.SessionInfo(
            "6f0cbd4c-0000-4000-8000-000000000001", "lab", "", subject, "2020-03-01", 1,
            datetime.datetime(2020, 3, 1, 9, tzinfo=datetime.UTC), None,
        )
    )  # fmt: skip
    assert nwb.add_trials(nwbfile, trials) == n
    table = nwbfile.trials.to_dataframe()
    np.testing.assert_array_equal(table["start_time"], trials["intervals"][:, 0])
    np.testing.assert_array_equal(table["stop_time"], trials["intervals"][:, 1])
    assert "no trials.intervals" not in nwbfile.trials.description
    assert nwbfile.subject.age == "P60D"


def test_a_release_that_asks_for_nwb_exports_its_sessions_and_serves_the_files(api, session, monkeypatch):
    land({"alf/_ibl_trials.table.pqt": swc_054_table(DATE).read_bytes()})
    land(wheel_files())
    body = {"name": "with_nwb", "draft": True, "nwb": True, "query": {"sessions": [session]}}
    drafted = api.post("/releases", body).json_body
    assert drafted["check"]["nwb_missing"] == [session]
    (task,) = [t for t in Task.by_session.query(session) if t.name == "ExportNWB"]
    assert run_export(task.id, monkeypatch) == 0
    assert api.get("/releases/with_nwb/draft").json_body["check"]["publishable"] is True
    published = api.post("/releases/with_nwb/publish", {})
    assert published.status_code == 201, published.json_body
    files = api.get("/public/releases/with_nwb/datasets", user=None).json_body["results"]
    (exported_file,) = [f for f in files if f["rel_path"].startswith("nwb/")]
    assert exported_file["rel_path"] == f"nwb/session.nwb.{SUBJECT}_{DATE}_001.nwb"
    answer = api.get(exported_file["url"].removeprefix("http://localhost"), user=None)
    assert answer.status_code == 302
