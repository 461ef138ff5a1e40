"""Tests for chalicelib.alf: the ALF naming convention (session folders, dataset paths, file names).

Table-driven tests pin each rule with valid and invalid names and check that every error names the part
at fault; hypothesis properties check that anything built from valid parts prints to a string that parses
back to the same object.
"""

from __future__ import annotations

import datetime
import re
import string
import uuid as uuidlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chalicelib.alf import (
    LAB,
    REVISION,
    SUBJECT,
    ALFError,
    DatasetPath,
    FileName,
    FullPath,
    SessionPath,
    build_session_path,
    is_valid_nickname,
    parse_dataset_path,
    parse_filename,
    parse_path,
    parse_session_path,
)
from chalicelib.errors import BadRequest

UUID = "2d1e5b6c-1234-4abc-8def-0123456789ab"
OTHER_UUID = "0f9a8b7c-6d5e-4f32-a1b0-9c8d7e6f5a4b"
JAN31 = datetime.date(2024, 1, 31)


@contextmanager
def raises_alf(part: str, *fragments: str) -> Iterator[None]:
    """Expect an ALFError for ``part`` whose message names the part and contains every fragment."""
    with pytest.raises(ALFError) as info:
        yield
    error = info.value
    message = str(error)
    assert error.part == part, f"expected part {part!r}, got {error.part!r}: {message}"
    assert message.startswith(f"ALF {part} "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# ========================================================================================================
# Errors
# ========================================================================================================


def test_alf_errors_are_bad_requests_carrying_the_message_as_detail() -> None:
    with pytest.raises(BadRequest) as info:
        parse_session_path("a b/2024-01-31/001")
    error = info.value
    assert isinstance(error, ALFError)
    assert error.status == 400
    assert error.part == "subject"
    assert str(error).startswith("ALF subject 'a b' is invalid: ")
    assert error.body() == {"detail": str(error), "status_code": 400}


# ========================================================================================================
# Session paths
# ========================================================================================================


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("SW_001/2024-01-31/001", SessionPath("SW_001", JAN31, 1), id="no-lab"),
        pytest.param(
            "cortexlab/Subjects/KS023/2024-01-31/002",
            SessionPath("KS023", JAN31, 2, lab="cortexlab"),
            id="lab-and-Subjects",
        ),
        pytest.param("ZM_1.2-a/2024-01-31/001", SessionPath("ZM_1.2-a", JAN31, 1), id="subject-dot-dash"),
        pytest.param("mouse/2024-02-29/001", SessionPath("mouse", datetime.date(2024, 2, 29), 1), id="leap"),
        pytest.param("mouse/2024-01-31/001/", SessionPath("mouse", JAN31, 1), id="one-trailing-slash"),
        pytest.param(
            "lab_1/Subjects/m/2024-01-31/7/", SessionPath("m", JAN31, 7, lab="lab_1"), id="lab-trailing-slash"
        ),
        pytest.param("2024-01-01/2024-01-31/001", SessionPath("2024-01-01", JAN31, 1), id="date-as-subject"),
    ],
)
def test_a_session_path_parses_with_or_without_the_lab(text: str, expected: SessionPath) -> None:
    assert parse_session_path(text) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [("1", 1), ("01", 1), ("001", 1), ("0", 0), ("000", 0), ("42", 42), ("999", 999)],
)
def test_a_session_number_of_one_to_three_digits_parses_to_an_int(number: str, expected: int) -> None:
    assert parse_session_path(f"m/2024-01-31/{number}").number == expected
    assert build_session_path("m", "2024-01-31", number).number == expected


@pytest.mark.parametrize(
    ("session", "text"),
    [
        (SessionPath("m", JAN31, 1), "m/2024-01-31/001"),
        (SessionPath("m", JAN31, 0), "m/2024-01-31/000"),
        (SessionPath("m", JAN31, 999, lab="lab"), "lab/Subjects/m/2024-01-31/999"),
        (SessionPath("m", datetime.date(5, 3, 4), 12), "m/0005-03-04/012"),
    ],
)
def test_a_session_path_prints_the_lab_subjects_folder_and_a_zero_padded_number(
    session: SessionPath, text: str
) -> None:
    assert str(session) == text


@pytest.mark.parametrize(
    ("text", "part", "fragment"),
    [
        # lab
        pytest.param("la-b/Subjects/m/2024-01-31/001", "lab", "'la-b'", id="lab-dash"),
        pytest.param("la b/Subjects/m/2024-01-31/001", "lab", "'la b'", id="lab-space"),
        pytest.param("läb/Subjects/m/2024-01-31/001", "lab", "'läb'", id="lab-non-ascii"),
        # Subjects literal
        pytest.param("lab/subjects/m/2024-01-31/001", "Subjects", "'subjects'", id="subjects-lowercase"),
        pytest.param("lab/Subject/m/2024-01-31/001", "Subjects", "'Subject'", id="subjects-singular"),
        pytest.param("lab/m/2024-01-31/001", "Subjects", "'lab'", id="lab-without-Subjects"),
        pytest.param("lab/Subjects/m/2024-01-31", "session path", "lab/Subjects", id="lab-form-incomplete"),
        # subject
        pytest.param("a b/2024-01-31/001", "subject", "'a b'", id="subject-space"),
        pytest.param("a#b/2024-01-31/001", "subject", "'a#b'", id="subject-hash"),
        pytest.param("lab/Subjects/../2024-01-31/001", "subject", "'..'", id="subject-dotdot"),
        pytest.param("./2024-01-31/001", "subject", "'.'", id="subject-dot"),
        pytest.param("/2024-01-31/001", "session path", "leading", id="leading-slash"),
        # date
        pytest.param("m/2024-02-30/001", "date", "calendar", id="feb-30"),
        pytest.param("m/2023-02-29/001", "date", "calendar", id="feb-29-non-leap"),
        pytest.param("m/2024-13-01/001", "date", "calendar", id="month-13"),
        pytest.param("m/2024-04-31/001", "date", "calendar", id="april-31"),
        pytest.param("m/0000-01-01/001", "date", "calendar", id="year-0"),
        pytest.param("m/2024-1-31/001", "date", "YYYY-MM-DD", id="unpadded-month"),
        pytest.param("m/24-01-31/001", "date", "YYYY-MM-DD", id="two-digit-year"),
        pytest.param("m/20240131/001", "date", "YYYY-MM-DD", id="no-dashes"),
        pytest.param("m/2024_01_31/001", "date", "YYYY-MM-DD", id="underscores"),
        pytest.param("m/٢٠٢٤-٠١-٣١/001", "date", "YYYY-MM-DD", id="non-ascii-digits"),
        # number
        pytest.param("m/2024-01-31/0001", "number", "'0001'", id="four-digits"),
        pytest.param("m/2024-01-31/1000", "number", "'1000'", id="over-999"),
        pytest.param("m/2024-01-31/abc", "number", "'abc'", id="letters"),
        pytest.param("m/2024-01-31/1a", "number", "'1a'", id="digit-letter"),
        pytest.param("m/2024-01-31/-1", "number", "'-1'", id="negative"),
        pytest.param("m/2024-01-31/001\n", "number", "digits", id="trailing-newline"),
        pytest.param("m/2024-01-31/٣", "number", "digits", id="non-ascii-digit"),
        # shape
        pytest.param("", "session path", "empty", id="empty"),
        pytest.param("m/2024-01-31", "session path", "subject/YYYY-MM-DD/NNN", id="too-short"),
        pytest.param("m/2024-01-31/001//", "session path", "subject/YYYY-MM-DD/NNN", id="two-slashes"),
        pytest.param("m/2024-01-31/001/alf", "session path", "parse_path", id="dataset-after-number"),
        pytest.param(r"lab\Subjects\m\2024-01-31\001", "session path", "backslash", id="backslashes"),
    ],
)
def test_an_invalid_session_path_is_refused_naming_the_wrong_part(
    text: str, part: str, fragment: str
) -> None:
    with raises_alf(part, fragment):
        parse_session_path(text)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("m", "2024-01-31", "001"), SessionPath("m", JAN31, 1)),
        (("m", "2024-01-31", "1"), SessionPath("m", JAN31, 1)),
        (("m", JAN31, 1), SessionPath("m", JAN31, 1)),
        (("m", JAN31, 0, "lab"), SessionPath("m", JAN31, 0, "lab")),
    ],
)
def test_build_session_path_accepts_strings_or_typed_values(args: tuple, expected: SessionPath) -> None:
    assert build_session_path(*args) == expected


@pytest.mark.parametrize(
    ("kwargs", "part"),
    [
        pytest.param({"subject": "a/b"}, "subject", id="subject-slash"),
        pytest.param({"subject": ""}, "subject", id="subject-empty"),
        pytest.param({"subject": 5}, "subject", id="subject-not-str"),
        pytest.param({"date": "2024-02-30"}, "date", id="date-calendar"),
        pytest.param({"date": datetime.datetime(2024, 1, 31, 12)}, "date", id="date-datetime"),
        pytest.param({"date": 20240131}, "date", id="date-int"),
        pytest.param({"number": 1000}, "number", id="number-1000"),
        pytest.param({"number": -1}, "number", id="number-negative"),
        pytest.param({"number": "1000"}, "number", id="number-str-1000"),
        pytest.param({"number": True}, "number", id="number-bool"),
        pytest.param({"number": 1.0}, "number", id="number-float"),
        pytest.param({"lab": ""}, "lab", id="lab-empty"),
        pytest.param({"lab": "a.b"}, "lab", id="lab-dot"),
    ],
)
def test_build_session_path_validates_every_part(kwargs: dict, part: str) -> None:
    values = {"subject": "m", "date": "2024-01-31", "number": "001", "lab": None} | kwargs
    with raises_alf(part):
        build_session_path(**values)


@pytest.mark.parametrize(
    ("kwargs", "part"),
    [
        pytest.param({"subject": "a b"}, "subject", id="subject"),
        pytest.param({"date": "2024-01-31"}, "date", id="date-as-str"),
        pytest.param({"date": datetime.datetime(2024, 1, 31)}, "date", id="date-as-datetime"),
        pytest.param({"number": "001"}, "number", id="number-as-str"),
        pytest.param({"number": 1000}, "number", id="number-too-big"),
        pytest.param({"lab": "a b"}, "lab", id="lab"),
    ],
)
def test_an_invalid_session_path_object_cannot_be_constructed(kwargs: dict, part: str) -> None:
    values = {"subject": "m", "date": JAN31, "number": 1, "lab": None} | kwargs
    with raises_alf(part):
        SessionPath(**values)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("SW_001", True),
        ("KS023", True),
        ("ZM-1.2", True),
        ("a", True),
        ("...", True),
        ("", False),
        (".", False),
        ("..", False),
        ("a b", False),
        ("a/b", False),
        ("a\n", False),
        ("mäus", False),
        ("a~b", False),
        (None, False),
    ],
)
def test_a_nickname_is_valid_when_it_can_name_a_subject_folder(text: str, valid: bool) -> None:
    assert is_valid_nickname(text) is valid


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (LAB, ["cortexlab", "lab_1", "L"], ["", "la-b", "lab\n", "lab/x", "läb"]),
        (SUBJECT, ["SW_001", "a.b-c"], ["", ".", "..", "a b", "a\n", "a#"]),
        (REVISION, ["2024-01-01", "v1.0.0", "a_b"], ["", "#v1#", "a b", "v1\n", "a/b"]),
    ],
)
def test_the_public_patterns_validate_whole_names_with_match_or_search(
    pattern: re.Pattern[str], good: list[str], bad: list[str]
) -> None:
    for name in good:
        assert pattern.match(name), name
        assert pattern.fullmatch(name), name
    for name in bad:
        assert not pattern.match(name), name
        assert not pattern.search(name), name


# ========================================================================================================
# File names
# ========================================================================================================

VALID_FILENAMES = [
    pytest.param("spikes.times.npy", FileName("spikes", "times", "npy"), id="plain"),
    pytest.param(
        "_ibl_trials.table.pqt", FileName("trials", "table", "pqt", namespace="ibl"), id="namespace"
    ),
    pytest.param(
        "_spikeglx_ephysData_g0_t0.imec0.ap.bin",
        FileName("ephysData_g0_t0", "imec0", "bin", namespace="spikeglx", extra=("ap",)),
        id="spikeglx-object-with-underscores",
    ),
    pytest.param(
        "ephysData_g0_t0.imec0.ap.meta",
        FileName("ephysData_g0_t0", "imec0", "meta", extra=("ap",)),
        id="object-underscores-no-namespace",
    ),
    pytest.param("trials.goCue_times.npy", FileName("trials", "goCue_times", "npy"), id="times-suffix"),
    pytest.param(
        "trials.intervals_bpod.npy",
        FileName("trials", "intervals", "npy", timescale="bpod"),
        id="intervals-ts",
    ),
    pytest.param(
        "wheel.timestamps_bpod.npy", FileName("wheel", "timestamps", "npy", timescale="bpod"), id="timestamps"
    ),
    pytest.param(
        "spikes.times_ephys.npy", FileName("spikes", "times", "npy", timescale="ephys"), id="times-ts"
    ),
    pytest.param(
        "trials.stimOn_times_bpod.npy",
        FileName("trials", "stimOn_times", "npy", timescale="bpod"),
        id="times-suffix-and-timescale",
    ),
    pytest.param(
        "_ibl_passivePeriods.intervalsTable_bpod.csv",
        FileName("passivePeriods", "intervalsTable", "csv", namespace="ibl", timescale="bpod"),
        id="intervals-prefix-is-not-a-suffix",
    ),
    pytest.param(
        "_ibl_spikes.times_ephysClock_minutes.ssv",
        FileName("spikes", "times", "ssv", namespace="ibl", timescale="ephysClock_minutes"),
        id="timescale-with-underscore",
    ),
    pytest.param(
        "_ibl_wheel.timestamps_bpod.raw.v12.npy",
        FileName("wheel", "timestamps", "npy", namespace="ibl", timescale="bpod", extra=("raw", "v12")),
        id="extras",
    ),
    pytest.param("channels._phy_ids.csv", FileName("channels", "_phy_ids", "csv"), id="attribute-namespace"),
    pytest.param(
        f"_ibl_trials.table.{UUID}.pqt",
        FileName("trials", "table", "pqt", namespace="ibl", uuid=UUID),
        id="uuid",
    ),
    pytest.param(
        f"_spikeglx_ephysData_g0_t0.imec0.ap.{UUID}.cbin",
        FileName("ephysData_g0_t0", "imec0", "cbin", namespace="spikeglx", extra=("ap",), uuid=UUID),
        id="uuid-after-extra",
    ),
    pytest.param(
        f"_ns_obj.attr1.{UUID}.metadata.json",
        FileName("obj", "attr1", "json", namespace="ns", extra=(UUID, "metadata")),
        id="uuid-not-last-is-an-extra",
    ),
    pytest.param(
        f"trials.table.{UUID.upper()}.pqt",
        FileName("trials", "table", "pqt", extra=(UUID.upper(),)),
        id="uppercase-uuid-is-an-extra",
    ),
    pytest.param(
        f"trials.table.{UUID.replace('-', '')}.pqt",
        FileName("trials", "table", "pqt", extra=(UUID.replace("-", ""),)),
        id="unhyphenated-uuid-is-an-extra",
    ),
    pytest.param(
        "obj_.attr.x-y_z.NPY", FileName("obj_", "attr", "NPY", extra=("x-y_z",)), id="odd-but-valid"
    ),
    pytest.param("2p.frames.tif", FileName("2p", "frames", "tif"), id="object-starts-with-digit"),
]


@pytest.mark.parametrize(("text", "expected"), VALID_FILENAMES)
def test_a_valid_file_name_parses_into_its_parts(text: str, expected: FileName) -> None:
    assert parse_filename(text) == expected


@pytest.mark.parametrize(("text", "expected"), VALID_FILENAMES)
def test_a_parsed_file_name_prints_back_unchanged(text: str, expected: FileName) -> None:
    assert str(parse_filename(text)) == text
    assert str(expected) == text


@pytest.mark.parametrize(
    ("text", "attribute", "timescale"),
    [
        ("times", "times", None),
        ("intervals", "intervals", None),
        ("timestamps", "timestamps", None),
        ("goCue_times", "goCue_times", None),
        ("stimOn_times", "stimOn_times", None),
        ("laser_intervals", "laser_intervals", None),
        ("times_ephys", "times", "ephys"),
        ("intervals_bpod", "intervals", "bpod"),
        ("timestamps_bpod", "timestamps", "bpod"),
        ("stimOn_times_bpod", "stimOn_times", "bpod"),
        ("laser_intervals_nidq", "laser_intervals", "nidq"),
        ("times_intervals", "times_intervals", None),
        ("a_timesX", "a", "timesX"),
        ("a_b_times", "a", "b_times"),
        ("foo_bar_baz", "foo", "bar_baz"),
        ("info_registration", "info", "registration"),
        ("_phy_ids_bpod", "_phy_ids", "bpod"),
    ],
)
def test_the_timescale_is_what_follows_the_attribute_and_its_times_or_intervals_suffix(
    text: str, attribute: str, timescale: str | None
) -> None:
    parsed = parse_filename(f"obj.{text}.npy")
    assert (parsed.attribute, parsed.timescale) == (attribute, timescale)


@pytest.mark.parametrize(
    ("text", "part", "fragment"),
    [
        # namespace
        pytest.param("_ibl.times.npy", "namespace", "closed", id="namespace-not-closed"),
        pytest.param("_foo.attr.npy", "namespace", "'_foo'", id="leading-underscore-object"),
        pytest.param("__foo.attr.npy", "namespace", "'__'", id="empty-namespace"),
        pytest.param("_i-bl_trials.table.pqt", "namespace", "'i-bl'", id="namespace-dash"),
        pytest.param("_ibl__trials.table.pqt", "object", "'_trials'", id="object-after-double-underscore"),
        # object
        pytest.param(".times.npy", "object", "''", id="empty-object"),
        pytest.param("spi kes.times.npy", "object", "'spi kes'", id="object-space"),
        pytest.param("spi-kes.times.npy", "object", "'spi-kes'", id="object-dash"),
        # attribute
        pytest.param("spikes..npy", "attribute", "''", id="empty-attribute"),
        pytest.param("spikes.go-cue.npy", "attribute", "'go-cue'", id="attribute-dash"),
        pytest.param("spikes._times.npy", "attribute", "'_times'", id="attribute-leading-underscore"),
        pytest.param("spikes.a b.npy", "attribute", "'a b'", id="attribute-space"),
        # timescale
        pytest.param("spikes.times_.npy", "timescale", "''", id="empty-timescale"),
        pytest.param("spikes.times__ephys.npy", "timescale", "'_ephys'", id="timescale-double-underscore"),
        pytest.param("spikes.times_eph-ys.npy", "timescale", "'eph-ys'", id="timescale-dash"),
        pytest.param("spikes.times_a__b.npy", "timescale", "'a__b'", id="timescale-inner-double"),
        # extras
        pytest.param("spikes.times..npy", "extra", "''", id="empty-extra"),
        pytest.param("spikes.times.a b.npy", "extra", "'a b'", id="extra-space"),
        pytest.param(f"spikes.times.{OTHER_UUID}.{UUID}.npy", "extra", "at most one uuid", id="two-uuids"),
        # extension
        pytest.param("spikes.times", "file name", "extension", id="missing-extension"),
        pytest.param("spikes", "file name", "extension", id="object-only"),
        pytest.param("spikes.times.", "extension", "''", id="empty-extension"),
        pytest.param("spikes.times.n-py", "extension", "'n-py'", id="extension-dash"),
        pytest.param("spikes.times.n_py", "extension", "'n_py'", id="extension-underscore"),
        pytest.param("spikes.times.npy\n", "extension", "'npy\\n'", id="extension-newline"),
        # shape
        pytest.param("", "file name", "empty", id="empty"),
        pytest.param("alf/spikes.times.npy", "file name", "'/'", id="folder"),
        pytest.param(r"alf\spikes.times.npy", "file name", "backslash", id="backslash"),
    ],
)
def test_an_invalid_file_name_is_refused_naming_the_wrong_part(text: str, part: str, fragment: str) -> None:
    with raises_alf(part, fragment):
        parse_filename(text)


@pytest.mark.parametrize(
    ("kwargs", "part", "fragment"),
    [
        pytest.param({"namespace": "ib_l"}, "namespace", "no underscores", id="namespace-underscore"),
        pytest.param({"namespace": ""}, "namespace", "''", id="namespace-empty"),
        pytest.param({"namespace": "_ibl_"}, "namespace", "'_ibl_'", id="namespace-with-its-underscores"),
        pytest.param({"object": "spi.kes"}, "object", "no dots", id="object-dot"),
        pytest.param({"object": "_spikes"}, "object", "not first", id="object-leading-underscore"),
        pytest.param({"object": ""}, "object", "''", id="object-empty"),
        pytest.param({"attribute": "ti.mes"}, "attribute", "no dots", id="attribute-dot"),
        pytest.param({"attribute": "attr_timestamps"}, "attribute", "timescale", id="attribute-underscore"),
        pytest.param({"attribute": "times_bpod"}, "attribute", "timescale", id="attribute-with-timescale"),
        pytest.param({"timescale": "bp.od"}, "timescale", "no dots", id="timescale-dot"),
        pytest.param({"timescale": ""}, "timescale", "''", id="timescale-empty"),
        pytest.param({"attribute": "a", "timescale": "times"}, "timescale", "a_times", id="ambiguous-times"),
        pytest.param(
            {"attribute": "goCue", "timescale": "intervals_x"},
            "timescale",
            "goCue_intervals",
            id="ambiguous-int",
        ),
        pytest.param({"extension": ""}, "extension", "''", id="extension-empty"),
        pytest.param({"extension": ".npy"}, "extension", "without the dot", id="extension-dot"),
        pytest.param({"extra": ("a.b",)}, "extra", "no dots", id="extra-dot"),
        pytest.param({"extra": ("",)}, "extra", "not empty", id="extra-empty"),
        pytest.param({"extra": "raw"}, "extra", "tuple", id="extra-str"),
        pytest.param({"extra": (UUID,)}, "extra", "set it as uuid", id="extra-ends-in-uuid"),
        pytest.param({"uuid": UUID.upper()}, "uuid", "lowercase", id="uuid-uppercase"),
        pytest.param({"uuid": "not-a-uuid"}, "uuid", "'not-a-uuid'", id="uuid-garbage"),
        pytest.param({"uuid": UUID.replace("-", "")}, "uuid", "8-4-4-4-12", id="uuid-unhyphenated"),
    ],
)
def test_an_invalid_file_name_object_cannot_be_constructed(kwargs: dict, part: str, fragment: str) -> None:
    values = {"object": "spikes", "attribute": "times", "extension": "npy"} | kwargs
    with raises_alf(part, fragment):
        FileName(**values)


def test_a_file_name_prints_namespace_timescale_extras_uuid_and_extension_in_order() -> None:
    name = FileName("spikes", "times", "npy", namespace="ibl", timescale="ephysClock", extra=("raw", "x"))
    assert str(name) == "_ibl_spikes.times_ephysClock.raw.x.npy"
    assert str(name.with_uuid(UUID)) == f"_ibl_spikes.times_ephysClock.raw.x.{UUID}.npy"


def test_a_uuid_before_the_extension_is_stripped_into_its_own_field() -> None:
    parsed = parse_filename(f"trials.table.{UUID}.pqt")
    assert parsed.uuid == UUID
    assert parsed.extra == ()
    assert str(parsed.without_uuid()) == "trials.table.pqt"


def test_with_uuid_adds_or_replaces_the_uuid_and_without_uuid_removes_it() -> None:
    name = parse_filename("trials.table.pqt")
    assert str(name.with_uuid(UUID)) == f"trials.table.{UUID}.pqt"
    assert str(name.with_uuid(UUID).with_uuid(OTHER_UUID)) == f"trials.table.{OTHER_UUID}.pqt"
    assert name.with_uuid(UUID).without_uuid() == name
    assert name.without_uuid() == name
    assert name.with_uuid(None) == name


def test_with_uuid_accepts_a_uuid_object() -> None:
    name = parse_filename("trials.table.pqt").with_uuid(uuidlib.UUID(UUID))
    assert name.uuid == UUID


def test_with_uuid_refuses_an_uppercase_uuid() -> None:
    with raises_alf("uuid", "lowercase"):
        parse_filename("trials.table.pqt").with_uuid(UUID.upper())


def test_an_uppercase_uuid_is_not_taken_for_a_uuid() -> None:
    parsed = parse_filename(f"trials.table.{UUID.upper()}.pqt")
    assert parsed.uuid is None
    assert parsed.extra == (UUID.upper(),)
    assert parsed.without_uuid() == parsed


@pytest.mark.parametrize(
    ("text", "namespace", "obj"),
    [
        ("_ib_l.x.npy", "ib", "l"),
        ("_i_b_l_x.y.z", "i", "b_l_x"),
        ("_spikeglx_ephysData_g0_t0.imec0.ap.bin", "spikeglx", "ephysData_g0_t0"),
        ("ephysData_g0_t0.imec0.ap.bin", None, "ephysData_g0_t0"),
    ],
)
def test_a_namespace_ends_at_its_second_underscore_and_the_object_keeps_the_rest(
    text: str, namespace: str | None, obj: str
) -> None:
    parsed = parse_filename(text)
    assert (parsed.namespace, parsed.object) == (namespace, obj)


@pytest.mark.parametrize(
    "text",
    ["_ibl_trials.goCue_times_bpod.raw.npy", f"_ibl_trials.goCue_times.{UUID}.npy", "trials.goCue_times.npy"],
)
def test_the_dataset_type_is_object_dot_attribute_whatever_else_the_name_carries(text: str) -> None:
    assert parse_filename(text).dataset_type == "trials.goCue_times"


def test_extras_given_as_a_list_are_stored_as_a_tuple_so_names_stay_hashable() -> None:
    name = FileName("spikes", "times", "npy", extra=["a", "b"])  # type: ignore[arg-type]
    assert name.extra == ("a", "b")
    assert hash(name) == hash(FileName("spikes", "times", "npy", extra=("a", "b")))


# ========================================================================================================
# Dataset paths
# ========================================================================================================

VALID_DATASET_PATHS = [
    pytest.param("spikes.times.npy", "", "", id="bare-file"),
    pytest.param("alf/spikes.times.npy", "alf", "", id="collection"),
    pytest.param(
        "alf/probe00/pykilosort/spikes.times.npy", "alf/probe00/pykilosort", "", id="deep-collection"
    ),
    pytest.param(
        "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin",
        "raw_ephys_data/probe00",
        "",
        id="raw-ephys",
    ),
    pytest.param("#2024-01-01#/spikes.times.npy", "", "2024-01-01", id="revision-only"),
    pytest.param("alf/probe00/#2024-01-01#/spikes.times.npy", "alf/probe00", "2024-01-01", id="both"),
    pytest.param("alf/#v1.0.0#/spikes.times.npy", "alf", "v1.0.0", id="dotted-revision"),
    pytest.param("alf/#a_b-c#/spikes.times.npy", "alf", "a_b-c", id="revision-underscore-dash"),
    pytest.param("alf.v1/x-y/spikes.times.npy", "alf.v1/x-y", "", id="collection-dot-dash"),
]


@pytest.mark.parametrize(("text", "collection", "revision"), VALID_DATASET_PATHS)
def test_a_dataset_path_splits_into_collection_revision_and_file_name(
    text: str, collection: str, revision: str
) -> None:
    parsed = parse_dataset_path(text)
    assert (parsed.collection, parsed.revision) == (collection, revision)
    assert parsed.filename == parse_filename(text.rsplit("/", 1)[-1])
    assert str(parsed) == text


@pytest.mark.parametrize(
    ("text", "part", "fragment"),
    [
        # revision
        pytest.param("#a#/#b#/spikes.times.npy", "revision", "at most one", id="two-revisions"),
        pytest.param(
            "alf/#a#/#b#/spikes.times.npy", "revision", "at most one", id="two-revisions-collection"
        ),
        pytest.param("#a#/alf/spikes.times.npy", "revision", "must come last", id="revision-not-last"),
        pytest.param("alf/#a#/probe00/spikes.times.npy", "revision", "must come last", id="revision-middle"),
        pytest.param("#a b#/spikes.times.npy", "revision", "'a b'", id="revision-space"),
        pytest.param("#a/b#/spikes.times.npy", "collection", "'#a'", id="revision-slash"),
        pytest.param("#a+b#/spikes.times.npy", "revision", "'a+b'", id="revision-plus"),
        pytest.param("##/spikes.times.npy", "revision", "empty", id="revision-empty"),
        # collection
        pytest.param("alf//spikes.times.npy", "collection", "empty folder", id="collection-double-slash"),
        pytest.param(
            "alf//probe00/spikes.times.npy", "collection", "empty folder", id="collection-empty-mid"
        ),
        pytest.param("alf/../spikes.times.npy", "collection", "'..'", id="collection-dotdot"),
        pytest.param("../spikes.times.npy", "collection", "'..'", id="collection-parent"),
        pytest.param("./spikes.times.npy", "collection", "'.'", id="collection-dot"),
        pytest.param("al f/spikes.times.npy", "collection", "'al f'", id="collection-space"),
        pytest.param("#alf/spikes.times.npy", "collection", "'#alf'", id="collection-half-hash"),
        # shape
        pytest.param("/alf/spikes.times.npy", "dataset path", "leading", id="leading-slash"),
        pytest.param(r"alf\spikes.times.npy", "dataset path", "backslash", id="backslash"),
        pytest.param("alf/", "dataset path", "no file name", id="no-file"),
        pytest.param("", "dataset path", "empty", id="empty"),
        # file name errors surface with their part
        pytest.param("alf/spikes.npy", "file name", "extension", id="file-missing-part"),
        pytest.param("alf/_ibl__x.y.z", "object", "'_x'", id="file-bad-object"),
    ],
)
def test_an_invalid_dataset_path_is_refused_naming_the_wrong_part(
    text: str, part: str, fragment: str
) -> None:
    with raises_alf(part, fragment):
        parse_dataset_path(text)


@pytest.mark.parametrize(
    ("kwargs", "part", "fragment"),
    [
        pytest.param({"collection": "alf/"}, "collection", "empty folder", id="collection-trailing-slash"),
        pytest.param({"collection": "/alf"}, "collection", "empty folder", id="collection-leading-slash"),
        pytest.param(
            {"collection": "alf/#v1#"}, "collection", "looks like a revision", id="collection-revision"
        ),
        pytest.param({"collection": "alf/.."}, "collection", "'..'", id="collection-dotdot"),
        pytest.param({"collection": None}, "collection", "string", id="collection-none"),
        pytest.param({"revision": "#v1#"}, "revision", "without the '#'", id="revision-with-hashes"),
        pytest.param({"revision": "v 1"}, "revision", "'v 1'", id="revision-space"),
        pytest.param({"revision": None}, "revision", "string", id="revision-none"),
        pytest.param({"filename": "spikes.times.npy"}, "file name", "FileName", id="filename-str"),
    ],
)
def test_an_invalid_dataset_path_object_cannot_be_constructed(kwargs: dict, part: str, fragment: str) -> None:
    values = {"filename": FileName("spikes", "times", "npy"), "collection": "", "revision": ""} | kwargs
    with raises_alf(part, fragment):
        DatasetPath(**values)


# ========================================================================================================
# Full paths
# ========================================================================================================


@pytest.mark.parametrize(
    ("text", "session", "dataset"),
    [
        pytest.param(
            "cortexlab/Subjects/KS023/2024-01-31/1/alf/probe00/#2024-02-01#/spikes.times.npy",
            SessionPath("KS023", JAN31, 1, lab="cortexlab"),
            "alf/probe00/#2024-02-01#/spikes.times.npy",
            id="everything",
        ),
        pytest.param(
            "KS023/2024-01-31/002/_ibl_trials.table.pqt",
            SessionPath("KS023", JAN31, 2),
            "_ibl_trials.table.pqt",
            id="no-lab-no-collection",
        ),
        pytest.param(
            f"lab/Subjects/m/2024-01-31/001/raw_video_data/_iblrig_leftCamera.raw.{UUID}.mp4",
            SessionPath("m", JAN31, 1, lab="lab"),
            f"raw_video_data/_iblrig_leftCamera.raw.{UUID}.mp4",
            id="uuid",
        ),
        pytest.param(
            "m/2024-01-31/001/#v2#/Subjects.x.npy",
            SessionPath("m", JAN31, 1),
            "#v2#/Subjects.x.npy",
            id="no-lab-revision-only",
        ),
    ],
)
def test_a_full_path_is_a_session_path_followed_by_a_dataset_path(
    text: str, session: SessionPath, dataset: str
) -> None:
    parsed = parse_path(text)
    assert parsed == FullPath(session, parse_dataset_path(dataset))
    assert str(parsed) == text.replace("/2024-01-31/1/", "/2024-01-31/001/")


@pytest.mark.parametrize(
    ("text", "part", "fragment"),
    [
        pytest.param("lab/subjects/m/2024-01-31/001/a.b.c", "Subjects", "'subjects'", id="Subjects-case"),
        pytest.param("lab/m/2024-01-31/001/a.b.c", "Subjects", "'Subjects'", id="Subjects-missing"),
        pytest.param("la-b/Subjects/m/2024-01-31/001/a.b.c", "lab", "'la-b'", id="lab"),
        pytest.param("a b/2024-01-31/001/a.b.c", "subject", "'a b'", id="subject"),
        pytest.param("m/2024-02-30/001/a.b.c", "date", "calendar", id="date-calendar"),
        pytest.param("lab/Subjects/m/2024-02-30/001/a.b.c", "date", "calendar", id="lab-date-calendar"),
        pytest.param("m/2024-01-31/1000/a.b.c", "number", "'1000'", id="number-4-digits"),
        pytest.param("m/2024-01-31/x1/a.b.c", "number", "'x1'", id="number-letters"),
        pytest.param("m/2024-01-31/001/#a#/#b#/a.b.c", "revision", "at most one", id="two-revisions"),
        pytest.param("m/2024-01-31/001/#a#/alf/a.b.c", "revision", "must come last", id="revision-not-last"),
        pytest.param("m/2024-01-31/001/alf/../a.b.c", "collection", "'..'", id="collection-dotdot"),
        pytest.param("m/2024-01-31/001/alf//a.b.c", "collection", "empty folder", id="collection-empty"),
        pytest.param("m/2024-01-31/001/_ibl.x.npy", "namespace", "closed", id="namespace-not-closed"),
        pytest.param("m/2024-01-31/001/alf/spikes.tim-es.npy", "attribute", "'tim-es'", id="attribute"),
        pytest.param("m/2024-01-31/001/alf/spikes.times", "file name", "extension", id="no-extension"),
        pytest.param("m/2024-01-31/001", "path", "file name", id="session-only"),
        pytest.param("m/2024-01-31/001/", "path", "no file name", id="session-slash"),
        pytest.param("/m/2024-01-31/001/a.b.c", "path", "leading", id="leading-slash"),
        pytest.param(r"m\2024-01-31\001\a.b.c", "path", "backslash", id="backslash"),
    ],
)
def test_an_invalid_full_path_is_refused_naming_the_wrong_part(text: str, part: str, fragment: str) -> None:
    with raises_alf(part, fragment):
        parse_path(text)


def test_an_invalid_full_path_object_cannot_be_constructed() -> None:
    dataset = parse_dataset_path("alf/spikes.times.npy")
    session = SessionPath("m", JAN31, 1)
    with raises_alf("session path"):
        FullPath("m/2024-01-31/001", dataset)  # type: ignore[arg-type]
    with raises_alf("dataset path"):
        FullPath(session, "alf/spikes.times.npy")  # type: ignore[arg-type]


def test_parsed_objects_are_frozen_and_hashable() -> None:
    path = parse_path("lab/Subjects/m/2024-01-31/001/alf/spikes.times.npy")
    with pytest.raises(AttributeError):
        path.session.subject = "other"  # type: ignore[misc]
    assert len({path, parse_path("lab/Subjects/m/2024-01-31/1/alf/spikes.times.npy")}) == 1


# ========================================================================================================
# The headline rules, one readable test each (the tables above hold the variants)
# ========================================================================================================


def test_a_revision_folder_must_come_last_before_the_file() -> None:
    assert parse_dataset_path("alf/#v1#/spikes.times.npy").revision == "v1"
    with raises_alf("revision", "must come last"):
        parse_dataset_path("#v1#/alf/spikes.times.npy")


def test_a_dataset_path_holds_at_most_one_revision_folder() -> None:
    with raises_alf("revision", "at most one"):
        parse_dataset_path("alf/#v1#/#v2#/spikes.times.npy")


def test_the_lab_must_be_followed_by_the_literal_subjects_folder() -> None:
    assert parse_session_path("lab/Subjects/m/2024-01-31/001").lab == "lab"
    with raises_alf("Subjects", "'SUBJECTS'"):
        parse_session_path("lab/SUBJECTS/m/2024-01-31/001")


def test_a_session_date_must_be_a_real_calendar_date() -> None:
    with raises_alf("date", "'2024-02-30'", "calendar"):
        parse_session_path("m/2024-02-30/001")


def test_a_namespace_may_not_contain_an_underscore() -> None:
    with raises_alf("namespace", "'my_ns'"):
        FileName("trials", "table", "pqt", namespace="my_ns")


def test_an_object_may_not_contain_a_dot() -> None:
    with raises_alf("object", "'tri.als'"):
        FileName("tri.als", "table", "pqt")


def test_a_file_name_needs_an_extension() -> None:
    with raises_alf("file name", "extension"):
        parse_filename("trials.table")


def test_times_and_intervals_suffixes_stay_on_the_attribute_other_suffixes_are_timescales() -> None:
    assert parse_filename("trials.goCue_times.npy").timescale is None
    assert parse_filename("trials.intervals_bpod.npy").timescale == "bpod"


# ========================================================================================================
# Properties: anything built from valid parts round-trips through its string form
# ========================================================================================================

ALNUM = string.ascii_letters + string.digits
WORD = ALNUM + "_"

labs = st.text(WORD, min_size=1, max_size=10)
subjects = st.text(WORD + ".-", min_size=1, max_size=12).filter(lambda s: s not in {".", ".."})
sessions = st.builds(
    SessionPath, subject=subjects, date=st.dates(), number=st.integers(0, 999), lab=st.none() | labs
)
uuids = st.uuids().map(str)


@st.composite
def filenames(draw: st.DrawFn, may_have_uuid: bool = False) -> FileName:
    """File names built from the rules, including the tricky words 'times' and 'intervals'."""
    namespace = draw(st.none() | st.text(ALNUM, min_size=1, max_size=8))
    obj = draw(st.sampled_from(ALNUM)) + draw(st.text(WORD, max_size=10))
    tricky = st.sampled_from(["times", "intervals", "timestamps", "bpod"])
    words = tricky | st.text(ALNUM, min_size=1, max_size=8)
    suffix = draw(st.sampled_from(["", "", "_times", "_intervals"]))
    attribute = draw(st.sampled_from(["", "", "", "_phy_"])) + draw(words) + suffix
    timescale = draw(st.none() | st.lists(words, min_size=1, max_size=3).map("_".join))
    if timescale and not suffix:
        # 'a' + '_times' would read back as the attribute 'a_times' (FileName refuses such pairs).
        assume(not re.match(r"(times|intervals)(_|$)", timescale))
    extra = tuple(draw(st.lists(st.text(WORD + "-", min_size=1, max_size=8), max_size=3)))
    extension = draw(st.text(ALNUM, min_size=1, max_size=5))
    uuid = draw(st.none() | uuids) if may_have_uuid else None
    return FileName(obj, attribute, extension, namespace, timescale, extra, uuid)


collections = st.lists(
    st.text(WORD + ".-", min_size=1, max_size=8).filter(lambda s: s not in {".", ".."}), max_size=3
).map("/".join)
revisions = st.just("") | st.text(WORD + ".-", min_size=1, max_size=12)
datasets = st.builds(
    DatasetPath, filename=filenames(may_have_uuid=True), collection=collections, revision=revisions
)


@given(sessions)
def test_a_session_path_round_trips_through_its_string(session: SessionPath) -> None:
    assert parse_session_path(str(session)) == session


NUMBER_FORMATS = st.sampled_from(["{}", "{:02d}", "{:03d}"])


@given(subjects, st.dates(), st.integers(0, 999), st.none() | labs, NUMBER_FORMATS)
def test_build_session_path_from_strings_equals_the_typed_session(
    subject: str, date: datetime.date, number: int, lab: str | None, number_format: str
) -> None:
    built = build_session_path(subject, date.isoformat(), number_format.format(number), lab)
    assert built == SessionPath(subject, date, number, lab)


@given(filenames())
def test_a_file_name_without_uuid_round_trips_through_its_string(name: FileName) -> None:
    assert parse_filename(str(name)) == name


@given(filenames(), uuids)
def test_a_file_name_with_uuid_round_trips_and_the_uuid_comes_off_again(name: FileName, uuid: str) -> None:
    with_uuid = name.with_uuid(uuid)
    text = str(with_uuid)
    assert text.endswith(f".{uuid}.{name.extension}")
    parsed = parse_filename(text)
    assert parsed == with_uuid
    assert parsed.uuid == uuid
    assert parsed.without_uuid() == name
    assert parsed.dataset_type == name.dataset_type


@given(datasets)
def test_a_dataset_path_round_trips_through_its_string(dataset: DatasetPath) -> None:
    assert parse_dataset_path(str(dataset)) == dataset


@given(sessions, datasets)
def test_a_full_path_round_trips_through_its_string(session: SessionPath, dataset: DatasetPath) -> None:
    path = FullPath(session, dataset)
    assert parse_path(str(path)) == path


_PATHISH = st.text(alphabet=WORD + ".-#/\\ \n" + "٣é", max_size=40)


@given(st.one_of(_PATHISH, st.text(max_size=40)))
def test_parsing_any_text_either_fails_with_alf_error_or_is_stable(text: str) -> None:
    for parse in (parse_session_path, parse_filename, parse_dataset_path, parse_path):
        try:
            parsed = parse(text)
        except ALFError as error:
            assert str(error).startswith("ALF ")
            assert error.part
        else:
            assert parse(str(parsed)) == parsed
