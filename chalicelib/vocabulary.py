"""The standard vocabulary every onecloud database starts with: data formats, dataset types and the water
types rigs record (ONE's default is "Water").

Dataset types follow IBL's Alyx: a blank ``filename_pattern`` means "the file's object.attribute is the
type's name"; a pattern (lowercase fnmatch) names files whose object.attribute differ from the type name,
such as raw SpikeGLX and rig files.
"""

from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib.aws import settings
from chalicelib.models import DataFormat, DataRepository, DatasetType, WaterType
from chalicelib.models.unique import UniqueKey

DATA_FORMATS: dict[str, str] = {
    "npy": ".npy",
    "parquet": ".pqt",
    "json": ".json",
    "csv": ".csv",
    "tsv": ".tsv",
    "ssv": ".ssv",
    "cbin": ".cbin",
    "ch": ".ch",
    "meta": ".meta",
    "bin": ".bin",
    "mp4": ".mp4",
    "yaml": ".yaml",
    "jsonable": ".jsonable",
    "sparse_npz": ".sparse_npz",
    "npz": ".npz",
    "log": ".log",
    "tar": ".tar",
    "flag": ".flag",
}

_TRIALS = (
    "table intervals intervals_bpod goCue_times stimOn_times stimOff_times feedback_times feedbackType "
    "choice contrastLeft contrastRight probabilityLeft response_times rewardVolume firstMovement_times "
    "quiescencePeriod included"
)
_BY_NAME: dict[str, str] = {
    **{f"trials.{a}": "Per-trial behavioural variable" for a in _TRIALS.split()},
    "wheel.position": "Absolute wheel position (radians)",
    "wheel.timestamps": "Wheel sample times (s)",
    "wheelMoves.intervals": "Start and end of detected wheel movements (s)",
    "wheelMoves.peakAmplitude": "Peak amplitude of each wheel movement",
    "spikes.times": "Spike times (s)",
    "spikes.clusters": "Cluster of each spike",
    "spikes.amps": "Spike amplitudes (V)",
    "spikes.depths": "Spike depths along the probe (um)",
    "spikes.samples": "Spike sample indices",
    "spikes.templates": "Template of each spike",
    "clusters.channels": "Peak channel of each cluster",
    "clusters.depths": "Depth of each cluster (um)",
    "clusters.amps": "Mean amplitude of each cluster (V)",
    "clusters.metrics": "Quality metrics per cluster",
    "clusters.uuids": "Unique identifier of each cluster",
    "clusters.waveforms": "Mean waveform of each cluster",
    "channels.localCoordinates": "Channel positions on the probe (um)",
    "channels.rawInd": "Index of each channel in the raw file",
    "channels.brainLocationIds_ccf_2017": "Allen CCF 2017 brain location of each channel",
    "templates.waveforms": "Template waveforms",
    "templates.waveformsChannels": "Channels of each template waveform",
    "ephysSummary.probe": "What the probe page draws: depth raster, rates and amplitudes by depth, clusters",
    "ephysSummary.clusters": "What the cluster pages draw: waveform, autocorrelogram, amplitudes, PSTHs",
    "subjectTraining.table": "A subject's training table: one row per date, metrics, fits and status",
    "psychometric.table": "A session's choices, response times and psychometric fits per block and contrast",
}
_BY_PATTERN: dict[str, tuple[str, str]] = {
    "ephysData.raw.ap": ("*.ap.*bin", "Raw action potential band (SpikeGLX, plain or mtscomp)"),
    "ephysData.raw.lf": ("*.lf.*bin", "Raw local field potential band (SpikeGLX, plain or mtscomp)"),
    "ephysData.raw.nidq": ("*.nidq.*bin", "Raw NI-DAQ channels (SpikeGLX, plain or mtscomp)"),
    "ephysData.raw.ch": ("*.ch", "mtscomp chunk table of a compressed raw file"),
    "ephysData.raw.meta": ("*.meta", "SpikeGLX metadata of a raw file"),
    "ephysData.raw.sync": ("_spikeglx_sync.*", "Sync pulses extracted from a SpikeGLX file"),
    "_iblrig_taskData.raw": ("_iblrig_taskdata.raw*.jsonable", "Raw task data written by the rig"),
    "_iblrig_taskSettings.raw": ("_iblrig_tasksettings.raw*.json", "Task settings of the rig"),
    "_iblrig_encoderPositions.raw": ("_iblrig_encoderpositions.raw*.ssv", "Raw rotary encoder positions"),
    "_iblrig_encoderEvents.raw": ("_iblrig_encoderevents.raw*.ssv", "Raw rotary encoder events"),
    "_iblrig_Camera.raw": ("_iblrig_*camera.raw*.mp4", "Raw video of a rig camera"),
    "_iblrig_Camera.timestamps": ("_iblrig_*camera.timestamps*", "Frame times of a rig camera"),
    "_iblrig_ambientSensorData.raw": (
        "_iblrig_ambientsensordata.raw*.jsonable",
        "Temperature, air pressure and humidity at the rig, per trial",
    ),
}


WATER_TYPES = ("Water", "Hydrogel", "Water 10% Sucrose", "Water 2% Citric Acid", "Water 15% Sucrose")


def seed_vocabulary() -> tuple[int, int]:
    """Add the standard formats and dataset types that are missing; returns how many of each were added.

    Written in batches (with the filename-pattern guards): seeding runs before anyone else writes.
    """
    present_formats = {f.name for f in DataFormat.scan()}
    present_types = {t.name for t in DatasetType.scan()}
    formats = [
        DataFormat(name=name, file_extension=extension)
        for name, extension in DATA_FORMATS.items()
        if name not in present_formats
    ]
    types = [DatasetType(name=name, description=text) for name, text in _BY_NAME.items()]
    types += [
        DatasetType(name=name, filename_pattern=pattern, description=text)
        for name, (pattern, text) in _BY_PATTERN.items()
    ]
    types = [t for t in types if t.name not in present_types]
    guards = [UniqueKey(key=key, owner=t.name) for t in types for key in t.unique_keys]
    present_water = {w.name for w in WaterType.scan()}
    water = [WaterType(name=name) for name in WATER_TYPES if name not in present_water]
    for model, items in (
        (DataFormat, formats),
        (DatasetType, types),
        (UniqueKey, guards),
        (WaterType, water),
    ):
        with model.batch_write() as batch:
            for item in items:
                batch.save(item)
    return len(formats), len(types)


def ensure_store_repository() -> bool:
    """The central S3 repository every upload is registered in; True when it was created."""
    current = settings()
    repository = DataRepository(
        name=current.s3_repository,
        repository_type="S3",
        globus_is_personal=False,
        json={"bucket_name": current.data_bucket, "region": current.region},
    )
    try:
        repository.save(condition=DataRepository.name.does_not_exist())
    except PutError:
        return False
    return True
