"""The standard vocabulary every onecloud database starts with, as Alyx installs it with ``loaddata``:
dataset types, data formats, water types, procedure types and data repository types.

The names, patterns and descriptions are onecloud's own copy of Alyx's fixtures
(``chalicelib/standard/alyx.json``, from cortex-lab/alyx and int-brain-lab/iblalyx), so that ibllib's
``procedures: ["Behavior training/tasks"]``, iblrig's water types and ONE's dataset types are all there
after ``make up``. Dataset types follow IBL's Alyx: a blank ``filename_pattern`` means "the file's
object.attribute is the type's name"; a pattern (lowercase fnmatch) names the files of that type.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.aws import settings
from chalicelib.models import (
    DataFormat,
    DataRepository,
    DataRepositoryType,
    DatasetType,
    ProcedureType,
    WaterType,
)
from chalicelib.models.unique import UniqueKey

STANDARD = Path(__file__).parent / "standard" / "alyx.json"

ONECLOUD_PATTERNS = {
    "ephysData.raw.ap": "*.ap.*bin",
    "ephysData.raw.lf": "*.lf.*bin",
    "ephysData.raw.nidq": "*.nidq.*bin",
    "ephysData.raw.ch": "*.ch",
}
"""Where onecloud widens Alyx's pattern: labs upload raw SpikeGLX ``.bin`` files (compressed here into
``.cbin``/``.ch``) under any file name, where Alyx registers only ``*ephysData*.ap.cbin``."""

ONECLOUD_TYPES = {
    "ephysSummary.probe": "What the probe page draws: depth raster, rates and amplitudes by depth, clusters",
    "ephysSummary.clusters": "What the cluster pages draw: waveform, autocorrelogram, amplitudes, PSTHs",
    "subjectTraining.table": "A subject's training table: one row per date, metrics, fits and status",
    "psychometric.table": "A session's choices, response times and psychometric fits per block and contrast",
    "trainingTime.designMatrix": "A training-time run's design matrix: one row per mouse, its 20 features",
    "session.nwb": "The session exported to one Neurodata Without Borders file (chalicelib/sharing/nwb.py)",
}
"""onecloud's own dataset types (the spike summaries its pages draw; blank pattern: by object.attribute)."""

ONECLOUD_FORMATS = {
    "flag": (".flag", "an empty file marking a state (a lab server's flag)"),
    "nwb": (".nwb", "Neurodata Without Borders (HDF5): a session exported for DANDI and NWB tools"),
}
ONECLOUD_REPOSITORY_TYPES = ("S3",)  # the central store


@cache
def standard() -> dict[str, Any]:
    return json.loads(STANDARD.read_text())


def standard_dataset_types() -> list[DatasetType]:
    return [
        DatasetType(
            name=t["name"],
            filename_pattern=ONECLOUD_PATTERNS.get(t["name"], t["filename_pattern"]).lower(),
            description=t["description"],
        )
        for t in standard()["dataset_types"]
    ] + [DatasetType(name=name, description=text) for name, text in ONECLOUD_TYPES.items()]


def standard_data_formats() -> list[DataFormat]:
    """Alyx's formats with a file extension (its ``notData`` has none: no file is ever of that format,
    and a blank extension cannot be an index key)."""
    formats = [DataFormat(**f) for f in standard()["data_formats"] if f["file_extension"]]
    formats += [
        DataFormat(name=name, file_extension=extension, description=text)
        for name, (extension, text) in ONECLOUD_FORMATS.items()
    ]
    return formats


def _missing(model: type, items: list[Any]) -> list[Any]:
    present = {item.name for item in model.scan(attributes_to_get=["name"])}
    return [item for item in items if item.name not in present]


def seed_vocabulary() -> tuple[int, int]:
    """Add the standard vocabulary that is missing (an existing name is left as the lab changed it);
    returns how many data formats and dataset types were added.

    Written in batches (with the filename-pattern guards): seeding runs before anyone else writes.
    """
    formats = _missing(DataFormat, standard_data_formats())
    types = _missing(DatasetType, standard_dataset_types())
    guards = [UniqueKey(key=key, owner=t.name) for t in types for key in t.unique_keys]
    water = _missing(WaterType, [WaterType(name=name) for name in standard()["water_types"]])
    procedures = _missing(ProcedureType, [ProcedureType(**p) for p in standard()["procedure_types"]])
    repository_types = _missing(
        DataRepositoryType,
        [DataRepositoryType(name=n) for n in (*standard()["repository_types"], *ONECLOUD_REPOSITORY_TYPES)],
    )
    for model, items in (
        (DataFormat, formats),
        (DatasetType, types),
        (UniqueKey, guards),
        (WaterType, water),
        (ProcedureType, procedures),
        (DataRepositoryType, repository_types),
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
