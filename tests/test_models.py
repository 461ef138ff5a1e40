"""The data model: uniqueness Alyx leaves open, and keyed access that never scans a table."""

from __future__ import annotations

import threading

import pytest

from chalicelib import alf
from chalicelib.datasets import dataset_at, datasets_of_session, file_record_at
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models import ALL_MODELS, Dataset, FileRecord, Lab, Task
from chalicelib.models.tables import table_definitions
from chalicelib.models.unique import save_unique
from chalicelib.sessions import create_session, find_session, sessions_of_lab, sessions_of_subject
from chalicelib.subjects import create_subject, find_subject
from chalicelib.tasks import tasks_of_lab


@pytest.fixture
def labs(cloud):
    for name in ("cortexlab", "churchlandlab"):
        Lab(name=name).save()


def _dataset(session_id: str, relative: str, lab: str = "cortexlab") -> Dataset:
    path = alf.parse_dataset_path(relative)
    return Dataset(
        session=session_id,
        lab=lab,
        relative_path=str(path),
        name=str(path.filename),
        collection=path.collection,
        revision=path.revision,
        dataset_type=path.filename.dataset_type,
        data_format=path.filename.extension,
    )


def test_every_table_is_named_from_configuration_with_its_hash_key_first(cloud):
    definitions = table_definitions()
    assert len(definitions) == len(ALL_MODELS)
    assert all(d["TableName"].startswith("onecloud-test-") for d in definitions)
    for definition in definitions:
        assert definition["KeySchema"][0]["KeyType"] == "HASH"
        for index in definition.get("GlobalSecondaryIndexes", []):
            assert index["KeySchema"][0]["KeyType"] == "HASH"


def test_a_nickname_is_unique_within_its_lab_but_not_across_labs(labs):
    create_subject("KS023", "cortexlab")
    create_subject("KS023", "churchlandlab")
    with pytest.raises(Conflict, match="cortexlab/KS023"):
        create_subject("KS023", "cortexlab")


def test_a_nickname_that_breaks_the_alf_rule_is_refused(labs):
    with pytest.raises(BadRequest, match="nickname"):
        create_subject("bad name", "cortexlab")


def test_a_subject_needs_an_existing_lab(cloud):
    with pytest.raises(NotFound, match="lab 'nolab'"):
        create_subject("KS023", "nolab")


def test_a_nickname_in_several_labs_must_be_looked_up_with_its_lab(labs):
    create_subject("KS023", "cortexlab")
    create_subject("KS023", "churchlandlab")
    with pytest.raises(BadRequest, match="several labs"):
        find_subject("KS023")
    assert find_subject("KS023", "churchlandlab").lab == "churchlandlab"


def test_two_sessions_of_a_subject_cannot_share_date_and_number(labs):
    subject = create_subject("KS023", "cortexlab")
    create_session(subject, "2024-01-31T10:00:00", number=1)
    create_session(subject, "2024-01-31T14:00:00", number=2)
    with pytest.raises(Conflict, match="KS023/2024-01-31#001"):
        create_session(subject, "2024-01-31T16:00:00", number=1)


def test_racing_writers_create_a_session_once(labs):
    subject = create_subject("KS023", "cortexlab")
    outcomes: list[str] = []

    def create() -> None:
        try:
            create_session(subject, "2024-01-31T10:00:00", number=1)
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 1
    assert len(list(sessions_of_subject("KS023"))) == 1


def test_a_dataset_identity_is_unique_within_its_session(labs):
    save_unique(first := _dataset("eid-1", "alf/#2024-01-01#/spikes.times.npy"), add=first.unique_keys)
    save_unique(other := _dataset("eid-1", "alf/spikes.times.npy"), add=other.unique_keys)
    save_unique(
        elsewhere := _dataset("eid-2", "alf/#2024-01-01#/spikes.times.npy"), add=elsewhere.unique_keys
    )
    duplicate = _dataset("eid-1", "alf/#2024-01-01#/spikes.times.npy")
    with pytest.raises(Conflict, match="eid-1/alf/#2024-01-01#/spikes.times.npy"):
        save_unique(duplicate, add=duplicate.unique_keys)


def test_a_file_path_is_unique_within_its_repository(labs):
    first = FileRecord(
        dataset="d1", session="s", data_repository="aws_cortexlab", relative_path="a/b.npy", lab="cortexlab"
    )
    save_unique(first, add=first.unique_keys)
    same = FileRecord(
        dataset="d2", session="s", data_repository="aws_cortexlab", relative_path="a/b.npy", lab="cortexlab"
    )
    with pytest.raises(Conflict):
        save_unique(same, add=same.unique_keys)


def test_keyed_lookups_query_indexes_and_never_scan(labs, dynamodb_calls):
    subject = create_subject("KS023", "cortexlab")
    for day in range(1, 6):
        create_session(subject, f"2024-01-0{day}T10:00:00", number=1)
    session = create_session(subject, "2024-02-01T10:00:00", number=3)
    ds = _dataset(session.id, "alf/probe00/spikes.times.npy")
    save_unique(ds, add=ds.unique_keys)
    record = FileRecord(
        dataset=ds.id,
        session=session.id,
        data_repository="aws_cortexlab",
        relative_path="x/spikes.times.npy",
        lab="cortexlab",
    )
    save_unique(record, add=record.unique_keys)
    Task(name="EphysCompress_probe00", session=session.id, lab="cortexlab").save()
    dynamodb_calls.clear()

    assert find_session(alf.parse_session_path("cortexlab/Subjects/KS023/2024-02-01/003")).id == session.id
    assert len(list(sessions_of_subject("ks023", "2024-01-02", "2024-01-04"))) == 3
    assert len(list(sessions_of_lab("cortexlab", "2024-01-05", "2024-02-01"))) == 2
    assert [d.id for d in datasets_of_session(session.id)] == [ds.id]
    assert dataset_at(session.id, alf.parse_dataset_path("alf/probe00/spikes.times.npy")).id == ds.id
    assert file_record_at("aws_cortexlab", "x/spikes.times.npy").id == record.id
    assert len(list(tasks_of_lab("cortexlab", "Waiting"))) == 1
    assert find_subject("KS023").id == subject.id

    assert dynamodb_calls["Scan"] == 0
    assert dynamodb_calls["Query"] == 8


def test_a_missing_session_is_not_found_by_path(labs):
    with pytest.raises(NotFound, match="KS999/2024-01-01/001"):
        find_session(alf.parse_session_path("cortexlab/Subjects/KS999/2024-01-01/001"))
