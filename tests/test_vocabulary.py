"""The standard vocabulary: Alyx's dataset types, data formats, water types, procedure types and data
repository types, seeded once, from onecloud's own copy of Alyx's fixtures."""

import fnmatch
import json
from pathlib import Path

import boto3
import pytest

from chalicelib import aws, registration
from chalicelib.alf import parse_filename
from chalicelib.errors import BadRequest
from chalicelib.models import DataFormat, DataRepositoryType, DatasetType, ProcedureType, WaterType
from chalicelib.vocabulary import ONECLOUD_PATTERNS, ONECLOUD_TYPES, seed_vocabulary, standard
from tests.conftest import _empty

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "alyx"


def test_seeding_adds_the_whole_standard_vocabulary_once(cloud):
    _empty(cloud, keep_vocabulary=False)
    formats, types = seed_vocabulary()
    assert len(standard()["dataset_types"]) == 223
    assert types == 223 + len(ONECLOUD_TYPES)
    assert formats == DataFormat.count()
    assert seed_vocabulary() == (0, 0)
    extensions = {f.file_extension for f in DataFormat.scan()}
    assert {".npy", ".pqt", ".cbin", ".ch", ".meta", ".bin", ".flag", ".sparse_npz", ".yaml"} <= extensions
    names = {t.name for t in DatasetType.scan()}
    assert {"trials.table", "spikes.times", "clusters.channels", "ephysData.raw.ap"} <= names
    assert all(t.filename_pattern == t.filename_pattern.lower() for t in DatasetType.scan())
    assert "Behavior training/tasks" in {p.name for p in ProcedureType.scan()}
    assert {"Water", "Hydrogel", "Water 10% Sucrose"} <= {w.name for w in WaterType.scan()}
    assert {"Fileserver", "S3"} <= {t.name for t in DataRepositoryType.scan()}


def test_the_project_carries_alyxs_vocabulary_names_and_patterns():
    """The copy in chalicelib/standard matches Alyx's fixtures (../shared/fixtures/alyx)."""
    types = {t["name"]: t["filename_pattern"] for t in standard()["dataset_types"]}
    for fixture in ("data.datasettype.json", "iblalyx.data.datasettype.json"):
        for record in json.loads((FIXTURES / fixture).read_text()):
            assert types[record["fields"]["name"]] == (record["fields"]["filename_pattern"] or "")
    for fixture, key in (("actions.proceduretype.json", "procedure_types"), ("actions.watertype.json", None)):
        names = {r["fields"]["name"] for r in json.loads((FIXTURES / fixture).read_text())}
        ours = standard()[key] if key else standard()["water_types"]
        assert names == {p["name"] if isinstance(p, dict) else p for p in ours}


def test_raw_ephys_files_match_one_type_each(cloud):
    """onecloud widens Alyx's raw SpikeGLX patterns to plain .bin uploads; no file matches two types."""
    seed_vocabulary()
    patterns = {t.name: t.filename_pattern for t in DatasetType.scan() if t.filename_pattern}
    for name in ONECLOUD_PATTERNS:
        assert patterns[name] == ONECLOUD_PATTERNS[name]
    for filename, expected in (
        ("_spikeglx_ephysdata_g0_t0.imec0.ap.bin", "ephysData.raw.ap"),
        ("_spikeglx_ephysdata_g0_t0.imec0.ap.cbin", "ephysData.raw.ap"),
        ("_spikeglx_ephysdata_g0_t0.imec0.lf.cbin", "ephysData.raw.lf"),
        ("_spikeglx_ephysdata_g0_t0.imec0.ap.ch", "ephysData.raw.ch"),
        ("_spikeglx_ephysdata_g0_t0.imec0.ap.meta", "ephysData.raw.meta"),
        ("_spikeglx_sync.times.npy", "_spikeglx_sync.times"),
        ("_iblrig_tasksettings.raw.json", "_iblrig_taskSettings.raw"),
    ):
        matching = [name for name, pattern in patterns.items() if fnmatch.fnmatchcase(filename, pattern)]
        assert matching == [expected], filename


def _from_another_container(item: dict) -> None:
    """A write this process does not see: another Lambda container's, through a client of its own."""
    settings = aws.settings()
    boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.aws_endpoint_url).put_item(
        TableName=DatasetType.Meta.table_name, Item=item
    )


def test_a_dataset_type_added_elsewhere_counts_at_the_next_file(cloud):
    new_file = parse_filename("_lab_licks.times.npy")
    with pytest.raises(BadRequest, match="no dataset type matches"):
        registration.Vocabulary().dataset_type(new_file)
    _from_another_container({"name": {"S": "licks.times"}, "id": {"S": "x1"}, "filename_pattern": {"S": ""}})
    assert registration.Vocabulary().dataset_type(new_file).name == "licks.times"  # read again first


def test_a_dataset_type_changed_here_counts_at_once_and_one_changed_elsewhere_within_a_minute(
    cloud, monkeypatch
):
    trials = parse_filename("_ibl_trials.table.pqt")
    assert registration.Vocabulary().dataset_type(trials).name == "trials.table"
    renamed = DatasetType.get("trials.table")
    renamed.description = "edited here"
    renamed.save()
    assert registration.Vocabulary().dataset_type(trials).description == "edited here"
    _from_another_container({**renamed.serialize(), "description": {"S": "edited elsewhere"}})
    assert registration.Vocabulary().dataset_type(trials).description == "edited here"  # its copy
    monkeypatch.setattr(registration, "VOCABULARY_SECONDS", 0.0)  # a minute later
    assert registration.Vocabulary().dataset_type(trials).description == "edited elsewhere"
