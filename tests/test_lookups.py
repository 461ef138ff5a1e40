"""Tests for chalicelib.lookups: Alyx's ``django=`` filter, parsed with literal_eval and never evaluated.

Tables pin what each lookup matches on one session-like row, the exact strings the ONE client sends, and
the 400s (each naming what is wrong); a hypothesis property checks that lookups formatted the way ONE
formats them parse back to the same lookups.
"""

from __future__ import annotations

import datetime
import inspect
import os
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import lookups
from chalicelib.errors import BadRequest
from chalicelib.lookups import Lookup, matches_all, parse_django, split_top_level

UUID = "2d1e5b6c-1234-4abc-8def-0123456789ab"
OTHER_UUID = "0f9a8b7c-6d5e-4f32-a1b0-9c8d7e6f5a4b"

FIELDS = frozenset(
    {
        "id",
        "subject",
        "lab",
        "users",
        "projects",
        "tags",
        "start_time",
        "end_time",
        "date",
        "number",
        "qc",
        "file_size",
        "exists",
        "default_dataset",
        "narrative",
        "session",
        "task_protocol",
        "json",
    }
)

ROW: dict[str, Any] = {
    "id": UUID,
    "subject": "KS023",
    "lab": "cortexlab",
    "users": ["alice", "bob"],
    "projects": ["brainwide", "ibl_neuropixel_brainwide_01"],
    "tags": [],
    "start_time": "2024-01-31T10:15:00",
    "end_time": None,
    "date": "2024-01-31",
    "number": 1,
    "qc": 40,
    "file_size": 1024.5,
    "exists": True,
    "default_dataset": False,
    "narrative": "Calm mouse, a, b; O'Brien helped",
    "session": OTHER_UUID,
    "task_protocol": "_iblrig_tasks_ephysChoiceWorld6.4.2",
}


def parse(text: str) -> list[Lookup]:
    return parse_django(text, key_field="id", fields=FIELDS)


def case(text: str, expected: bool, behaviour: str) -> Any:
    return pytest.param(text, expected, id=behaviour)


# --------------------------------------------------------------------------------------------------------
# What each lookup matches
# --------------------------------------------------------------------------------------------------------

MATCHES = [
    # exact
    case("subject,KS023", True, "exact-equal-string"),
    case("subject,KS024", False, "exact-other-string"),
    case("subject,ks023", False, "exact-is-case-sensitive"),
    case(f"pk,{UUID.upper()}", True, "exact-uuid-ignores-case"),
    case(f"pk,{UUID.replace('-', '')}", True, "exact-uuid-ignores-hyphens"),
    case(f"pk,{OTHER_UUID}", False, "exact-other-uuid"),
    case("qc,40", True, "exact-int-value-equals-int-row"),
    case("qc,41", False, "exact-other-int"),
    case("qc,'40'", True, "exact-numeric-string-equals-int-row"),
    case("qc,40.0", True, "exact-float-value-equals-int-row"),
    case("number,001", True, "exact-zero-padded-number-equals-int-row"),
    case("file_size,1024.5", True, "exact-float-row"),
    case("exists,True", True, "exact-true-equals-true-row"),
    case("exists,False", False, "exact-false-differs-from-true-row"),
    case("exists,true", True, "exact-lowercase-true-reads-as-bool"),
    case("exists,1", True, "exact-one-reads-as-true"),
    case("default_dataset,False", True, "exact-false-equals-false-row"),
    case("exists,yes", False, "exact-non-boolean-word-never-equals-bool"),
    case("end_time,None", True, "exact-none-matches-null"),
    case("subject,None", False, "exact-none-rejects-value"),
    case("tags,None", True, "exact-none-matches-empty-list"),
    case("projects,brainwide", True, "exact-list-row-matches-any-element"),
    case("projects,brain", False, "exact-list-row-needs-a-whole-element"),
    case("tags,x", False, "exact-empty-list-matches-nothing"),
    case("date,2024-01-31", True, "exact-date"),
    case("start_time,2024-01-31T10:15:00", True, "exact-datetime"),
    case("start_time,2024-01-31 10:15", True, "exact-datetime-space-separator-no-seconds"),
    case("start_time,2024-01-31", False, "exact-date-value-is-midnight-on-datetime-row"),
    case("qc,2024-01-31", False, "exact-date-never-equals-number"),
    # iexact
    case("subject__iexact,ks023", True, "iexact-ignores-case"),
    case("subject__iexact,ks02", False, "iexact-needs-whole-string"),
    case("users__iexact,ALICE", True, "iexact-list-row-any-element"),
    case("end_time__iexact,x", False, "iexact-null-row-never-matches"),
    case("end_time__iexact,None", True, "iexact-none-matches-null"),
    # contains / icontains
    case("narrative__contains,mouse", True, "contains-substring"),
    case("narrative__contains,Mouse", False, "contains-is-case-sensitive"),
    case("narrative__contains,'a, b'", True, "contains-quoted-value-with-commas"),
    case("narrative__icontains,CALM", True, "icontains-ignores-case"),
    case("narrative__icontains,dog", False, "icontains-absent"),
    case("narrative__icontains,O'Brien", True, "icontains-bare-apostrophe"),
    case("projects__icontains,NEUROPIXEL", True, "icontains-list-row-any-element"),
    case("users__icontains,carol", False, "icontains-list-row-no-element"),
    case("end_time__icontains,a", False, "icontains-null-row-never-matches"),
    case("qc__icontains,4", True, "icontains-on-number-reads-its-text"),
    # startswith / istartswith / endswith / iendswith
    case("task_protocol__startswith,_iblrig", True, "startswith-prefix"),
    case("task_protocol__startswith,_IBLRIG", False, "startswith-is-case-sensitive"),
    case("task_protocol__istartswith,_IBLRIG", True, "istartswith-ignores-case"),
    case("task_protocol__istartswith,ephys", False, "istartswith-not-a-prefix"),
    case("end_time__startswith,a", False, "startswith-null-row-never-matches"),
    case("task_protocol__endswith,6.4.2", True, "endswith-suffix"),
    case("task_protocol__endswith,6.4.3", False, "endswith-not-a-suffix"),
    case("subject__iendswith,s023", True, "iendswith-ignores-case"),
    case("subject__iendswith,x", False, "iendswith-not-a-suffix"),
    # in
    case("subject__in,['KS023', 'KS024']", True, "in-list-contains-value"),
    case("subject__in,('KS024',)", False, "in-tuple-lacks-value"),
    case("subject__in,KS023", True, "in-scalar-is-one-element-list"),
    case("subject__in,[]", False, "in-empty-list-matches-nothing"),
    case("users__in,['bob', 'carol']", True, "in-list-row-any-element"),
    case("users__in,['carol']", False, "in-list-row-no-element"),
    case("qc__in,[40, 50]", True, "in-numbers"),
    case(f"pk__in,('{UUID.upper()}',)", True, "in-uuid-ignores-case"),
    case("end_time__in,[None]", False, "in-none-matches-nothing-as-in-django"),
    # range
    case("qc__range,[30, 40]", True, "range-is-inclusive"),
    case("qc__range,(41, 50)", False, "range-outside"),
    case("start_time__date__range,['2024-01-01', '2024-01-31']", True, "range-on-date-part"),
    # gt / gte / lt / lte on numbers
    case("qc__gt,39", True, "gt-below"),
    case("qc__gt,40", False, "gt-equal"),
    case("qc__gte,40", True, "gte-equal"),
    case("qc__gte,41", False, "gte-above"),
    case("qc__lt,41", True, "lt-above"),
    case("qc__lt,40", False, "lt-equal"),
    case("qc__lte,40", True, "lte-equal"),
    case("qc__lte,39.5", False, "lte-below"),
    case("file_size__gt,1024", True, "gt-float-row"),
    case("qc__gte,'40'", True, "gte-numeric-string-compares-as-number"),
    case("qc__gt,abc", False, "gt-non-number-never-matches-number-row"),
    case("end_time__gte,2024-01-01", False, "gte-null-row-never-matches"),
    case("subject__gt,KS000", True, "gt-plain-strings-compare-as-text"),
    # comparisons on dates and datetimes
    case("start_time__gte,2024-01-31", True, "gte-date-is-midnight-on-datetime-row"),
    case("start_time__lte,2024-01-31", False, "lte-date-is-midnight-on-datetime-row"),
    case("start_time__lt,2024-01-31T10:15:01", True, "lt-datetime"),
    case("start_time__gt,2024-01-31T10:15:00", False, "gt-datetime-equal"),
    case("start_time__date__lte,2024-01-31", True, "date-lte-compares-the-date-part"),
    case("start_time__date__gt,2024-01-31", False, "date-gt-compares-the-date-part"),
    case("start_time__date__gte,2024-01-01", True, "date-gte-earlier-day"),
    case("start_time__date__lt,2024-01-31", False, "date-lt-same-day"),
    case("date__gte,'2024-01-31T23:00'", True, "datetime-value-on-date-row-compares-its-date"),
    case("date__lt,2024-02-01", True, "lt-date-row"),
    # __date alone
    case("start_time__date,2024-01-31", True, "date-equal-day"),
    case("start_time__date,2024-01-30", False, "date-other-day"),
    case("start_time__date__exact,2024-01-31", True, "date-exact-equal-day"),
    case("end_time__date,2024-01-31", False, "date-null-row-never-matches"),
    case("subject__date,2024-01-31", False, "date-on-non-date-row-never-matches"),
    case("start_time__date__in,['2024-01-30', '2024-01-31']", True, "date-in"),
    # isnull
    case("end_time__isnull,True", True, "isnull-true-on-null"),
    case("end_time__isnull,False", False, "isnull-false-on-null"),
    case("subject__isnull,True", False, "isnull-true-on-value"),
    case("subject__isnull,False", True, "isnull-false-on-value"),
    case("tags__isnull,True", True, "isnull-true-on-empty-list"),
    case("users__isnull,False", True, "isnull-false-on-non-empty-list"),
    case("json__isnull,True", True, "isnull-field-missing-from-row-is-null"),
    case("end_time__date__isnull,True", True, "isnull-after-date"),
    # negation
    case("~qc__gte,40", False, "negated-match-fails"),
    case("~qc__gte,41", True, "negated-non-match-passes"),
    case("~subject,KS024", True, "negated-exact"),
    case("~projects,brainwide", False, "negated-list-row-excludes-if-any-element-matches"),
    case("~users__in,['carol']", True, "negated-in-list-row-no-element"),
    case("~end_time__isnull,True", False, "negated-isnull"),
    case("~end_time__icontains,a", True, "negated-null-row-passes"),
    # relation hops collapse onto the field
    case("subject__nickname,KS023", True, "hop-subject-nickname"),
    case("lab__name,cortexlab", True, "hop-lab-name"),
    case("users__username,alice", True, "hop-users-username"),
    case(f"session__id,{OTHER_UUID}", True, "hop-session-id"),
    case(f"session__pk,{OTHER_UUID.upper()}", True, "hop-session-pk"),
    case("subject__nickname__icontains,ks0", True, "hop-then-lookup"),
    case("lab__name__in,['mainenlab']", False, "hop-then-in-no-match"),
    # several lookups are ANDed
    case("subject__nickname,KS023,start_time__date__gte,2024-01-01", True, "and-all-true"),
    case("subject,KS023,qc__gt,50", False, "and-one-false"),
    case("qc__gte,30,qc__lte,50", True, "and-same-field-twice"),
    case("", True, "empty-filter-matches-everything"),
]


@pytest.mark.parametrize(("text", "expected"), MATCHES)
def test_filter_matches_the_row(text: str, expected: bool) -> None:
    assert matches_all(parse(text), ROW) is expected


def test_negation_is_the_complement_of_every_lookup() -> None:
    single = [param.values for param in MATCHES if len(split_top_level(param.values[0])) == 2]
    assert len(single) > 100
    for text, expected in single:
        flipped = text.removeprefix("~") if text.startswith("~") else "~" + text
        assert matches_all(parse(flipped), ROW) is not expected, flipped


@pytest.mark.parametrize(
    ("row_value", "value", "expected"),
    [
        pytest.param(None, "x", False, id="string-op-on-none"),
        pytest.param(["a", None], "A", True, id="string-op-list-with-none-element"),
        pytest.param({"k": "v"}, "k", False, id="string-op-on-dict"),
    ],
)
def test_string_lookups_only_see_text(row_value: Any, value: str, expected: bool) -> None:
    assert Lookup("json", "icontains", value).matches({"json": row_value}) is expected


def test_a_hand_built_in_lookup_with_a_scalar_is_a_one_element_list() -> None:
    assert Lookup("subject", "in", "KS023").matches(ROW)
    assert not Lookup("subject", "in", "KS").matches(ROW)


def test_date_objects_in_rows_compare_like_iso_strings() -> None:
    row = {"start_time": datetime.datetime(2024, 1, 31, 10, 15), "date": datetime.date(2024, 1, 31)}
    assert matches_all(
        parse("start_time__date,2024-01-31,date__gte,2024-01-01,start_time__lt,2024-02-01"), row
    )
    assert matches_all(parse("date,2024-01-31"), row)


def test_an_aware_datetime_in_a_row_compares_as_utc_instead_of_failing() -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    row = {"start_time": datetime.datetime(2024, 1, 31, 1, 0, tzinfo=plus_two)}
    assert matches_all(parse("start_time__date,2024-01-30,start_time__lt,2024-01-30T23:30"), row)


# --------------------------------------------------------------------------------------------------------
# The strings ONE sends
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"pk,{UUID}", [Lookup("id", "exact", UUID)], id="pk-uuid"),
        pytest.param(f"pk,'{UUID}'", [Lookup("id", "exact", UUID)], id="pk-quoted-uuid"),
        pytest.param("pk__in,('a', 'b')", [Lookup("id", "in", ("a", "b"))], id="pk-in-tuple-repr"),
        pytest.param("pk__in,('a',)", [Lookup("id", "in", ("a",))], id="pk-in-one-tuple-repr"),
        pytest.param("id__in,['x', 'y']", [Lookup("id", "in", ("x", "y"))], id="id-in-list-repr"),
        pytest.param(
            "id__in,['x, y', 'z'],subject,KS023",
            [Lookup("id", "in", ("x, y", "z")), Lookup("subject", "exact", "KS023")],
            id="list-with-comma-inside-a-string-then-more",
        ),
        pytest.param("~qc__gte,40", [Lookup("qc", "gte", 40, negate=True)], id="negated-number"),
        pytest.param(
            "subject__nickname,KS023,start_time__date__gte,2024-01-01",
            [
                Lookup("subject", "exact", "KS023"),
                Lookup("start_time", "gte", "2024-01-01", date_part=True),
            ],
            id="unquoted-strings-and-date-part",
        ),
        pytest.param(
            "projects__name__icontains,brain", [Lookup("projects", "icontains", "brain")], id="projects-name"
        ),
        pytest.param(
            "narrative__icontains,'a, b'", [Lookup("narrative", "icontains", "a, b")], id="quoted-comma"
        ),
        pytest.param(
            'narrative__icontains,"it\'s, here"',
            [Lookup("narrative", "icontains", "it's, here")],
            id="double-quoted-with-apostrophe",
        ),
        pytest.param(
            "narrative,'it\\'s'", [Lookup("narrative", "exact", "it's")], id="escaped-quote-in-string"
        ),
        pytest.param(
            "narrative__icontains,'it\\'s, \"here\"'",
            [Lookup("narrative", "icontains", 'it\'s, "here"')],
            id="escaped-quote-then-comma",
        ),
        pytest.param("start_time__date,2024-01-31", [Lookup("start_time", "date", "2024-01-31")], id="date"),
        pytest.param("users__username,alice", [Lookup("users", "exact", "alice")], id="users-username"),
        pytest.param("lab__name,cortexlab", [Lookup("lab", "exact", "cortexlab")], id="lab-name"),
        pytest.param(f"session__id,{UUID}", [Lookup("session", "exact", UUID)], id="session-id"),
        pytest.param("end_time,None", [Lookup("end_time", "exact", None)], id="none"),
        pytest.param("exists,False", [Lookup("exists", "exact", False)], id="false"),
        pytest.param("qc__gte,0.5", [Lookup("qc", "gte", 0.5)], id="float"),
        pytest.param("qc__gt,-5", [Lookup("qc", "gt", -5)], id="negative"),
        pytest.param("end_time__isnull,true", [Lookup("end_time", "isnull", True)], id="isnull-lowercase"),
        pytest.param("number,001", [Lookup("number", "exact", "001")], id="zero-padded-stays-text"),
        pytest.param("  subject , KS023 ", [Lookup("subject", "exact", "KS023")], id="blanks-trimmed"),
        pytest.param("narrative,' a '", [Lookup("narrative", "exact", " a ")], id="quotes-keep-blanks"),
        pytest.param("narrative,b'x'", [Lookup("narrative", "exact", "b'x'")], id="bytes-literal-is-text"),
        pytest.param("qc,1-2j", [Lookup("qc", "exact", "1-2j")], id="complex-literal-is-text"),
        pytest.param("", [], id="empty"),
        pytest.param("   ", [], id="blank"),
    ],
)
def test_one_filter_strings_parse_to_lookups(text: str, expected: list[Lookup]) -> None:
    assert parse(text) == expected


def test_pk_means_the_resources_key_field() -> None:
    assert parse_django("pk,trials.table", key_field="name", fields={"description"}) == [
        Lookup("name", "exact", "trials.table")
    ]


def test_lookups_are_hashable_so_handlers_can_dedupe_them() -> None:
    assert len(set(parse("pk__in,['a', 'b'],pk__in,['a', 'b']"))) == 1


def test_a_lookup_refuses_an_unknown_operator() -> None:
    with pytest.raises(ValueError, match="has_key"):
        Lookup("json", "has_key", "x")


# --------------------------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        pytest.param("", [""], id="empty"),
        pytest.param("a,b", ["a", "b"], id="plain"),
        pytest.param("pk__in,['a', 'b']", ["pk__in", "['a', 'b']"], id="list"),
        pytest.param("pk__in,('a', ('b', 'c')),x", ["pk__in", "('a', ('b', 'c'))", "x"], id="nested"),
        pytest.param("x,'a, b'", ["x", "'a, b'"], id="single-quoted"),
        pytest.param('x,"a, b"', ["x", '"a, b"'], id="double-quoted"),
        pytest.param("x,'it\\'s, here'", ["x", "'it\\'s, here'"], id="escaped-quote"),
        pytest.param("x,O'Brien,y,z", ["x", "O'Brien", "y", "z"], id="apostrophe-mid-word"),
        pytest.param("x,[')', ']'],y", ["x", "[')', ']']", "y"], id="brackets-in-quotes"),
        pytest.param("x, 'a,b' ,y", ["x", " 'a,b' ", "y"], id="blank-before-quote"),
        pytest.param("a,b,", ["a", "b", ""], id="trailing-comma"),
    ],
)
def test_split_top_level_keeps_bracketed_and_quoted_commas(text: str, items: list[str]) -> None:
    assert split_top_level(text) == items


# --------------------------------------------------------------------------------------------------------
# Bad filters: a 400 naming what is wrong
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        pytest.param("json__has_key,x", ["unsupported lookup 'has_key'"], id="has-key"),
        pytest.param("qc__regex,^4", ["unsupported lookup 'regex'"], id="regex"),
        pytest.param("start_time__year,2024", ["unsupported lookup 'year'"], id="year"),
        pytest.param("qc__gte__lt,3", ["unsupported lookup 'gte__lt'"], id="two-operators"),
        pytest.param(
            "session__subject__nickname,KS023",
            ["unsupported lookup 'subject__nickname'"],
            id="two-relation-hops",
        ),
        pytest.param(
            "start_time__date__icontains,2024",
            ["unsupported lookup 'icontains' after '__date'"],
            id="date-icontains",
        ),
        pytest.param("foo,1", ["unknown field 'foo'"], id="unknown-field"),
        pytest.param("foo__nickname__in,[1]", ["unknown field 'foo'"], id="unknown-field-with-hop"),
        pytest.param("~~qc,1", ["unknown field '~qc'"], id="double-tilde"),
        pytest.param("pk,a,b", ["pairs", "3 items"], id="odd-count"),
        pytest.param("pk", ["pairs", "1 items"], id="lookup-without-value"),
        pytest.param("pk,a,", ["item 3", "empty"], id="trailing-comma"),
        pytest.param(",pk,a", ["item 1", "empty"], id="leading-comma"),
        pytest.param("pk,", ["item 2", "empty"], id="empty-value"),
        pytest.param("pk__in,['a', 'b'", ["unclosed bracket", "']'"], id="unclosed-bracket"),
        pytest.param("pk__in,'a', 'b']", ["unbalanced ']'"], id="stray-closing-bracket"),
        pytest.param("pk__in,(a]", ["unbalanced ']'"], id="mismatched-bracket"),
        pytest.param("narrative,'abc", ["unclosed quote"], id="unclosed-quote"),
        pytest.param("pk__in,[a, b]", ["'[a, b]'", "not a Python literal"], id="bracketed-non-literal"),
        pytest.param("narrative,'a' b", ["not a Python literal"], id="quoted-then-text"),
        pytest.param("qc__in,[[1, 2]]", ["'[[1, 2]]'", "must be"], id="nested-list"),
        pytest.param("json,{'a': 1}", ["must be"], id="dict"),
        pytest.param("qc,[1, 2]", ["'qc'", "lists go with __in"], id="list-for-exact"),
        pytest.param("qc__gte,None", ["'qc__gte'", "other than None"], id="none-for-gte"),
        pytest.param("narrative__icontains,None", ["other than None"], id="none-for-icontains"),
        pytest.param("qc__isnull,maybe", ["'qc__isnull'", "True or False"], id="isnull-not-bool"),
        pytest.param("qc__range,[1]", ["two values"], id="range-one-bound"),
        pytest.param("qc__range,[1, None]", ["two values"], id="range-none-bound"),
        pytest.param("start_time__date,yesterday", ["'start_time__date'", "a date"], id="date-not-a-date"),
        pytest.param("start_time__date__gte,2024-13-01", ["a date"], id="date-impossible-month"),
        pytest.param("start_time__date__in,['2024-01-01', 'x']", ["dates"], id="date-in-not-dates"),
        pytest.param("qc____gte,1", ["malformed lookup 'qc____gte'"], id="empty-part"),
        pytest.param("~,1", ["malformed lookup '~'"], id="tilde-alone"),
    ],
)
def test_bad_filters_are_a_400_naming_what_is_wrong(text: str, fragments: list[str]) -> None:
    with pytest.raises(BadRequest) as info:
        parse(text)
    assert info.value.status == 400
    assert info.value.detail.startswith("django filter: ")
    for fragment in fragments:
        assert fragment in info.value.detail


def test_unknown_field_message_lists_the_allowed_fields() -> None:
    with pytest.raises(BadRequest, match=r"unknown field 'foo'.*fields: id, name"):
        parse_django("foo,1", key_field="id", fields=["name"])


# --------------------------------------------------------------------------------------------------------
# Nothing is evaluated
# --------------------------------------------------------------------------------------------------------


def test_code_in_a_filter_is_a_plain_string_and_never_runs(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    commands: list[str] = []
    monkeypatch.setattr(os, "system", lambda command: commands.append(command) or 0)
    sentinel = tmp_path / "pwned"
    shell = "__import__('os').system('echo hi')"
    touch = f"__import__('pathlib').Path({str(sentinel)!r}).touch()"

    parsed = parse(f"narrative,{shell},subject__icontains,{touch}")

    assert parsed == [Lookup("narrative", "exact", shell), Lookup("subject", "icontains", touch)]
    assert not matches_all(parsed, ROW)
    assert matches_all(parsed, {"narrative": shell, "subject": touch})
    for bracketed in (f"pk__in,[{shell}]", f"pk__in,({touch},)", f"narrative,({shell})"):
        with pytest.raises(BadRequest, match="not a Python literal"):
            parse(bracketed)
    assert commands == []
    assert not sentinel.exists()
    assert "hi" not in capfd.readouterr().out


def test_the_module_never_calls_eval_or_exec() -> None:
    source = inspect.getsource(lookups)
    assert not re.search(r"(?<![\w.])(eval|exec|compile)\(", source)
    assert "literal_eval(" in source


# --------------------------------------------------------------------------------------------------------
# Property: lookups formatted the way ONE formats them parse back to the same lookups
# --------------------------------------------------------------------------------------------------------

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
# Text rich in the characters the splitter must get right: repr only escapes a quote when both kinds occur.
texts = st.one_of(st.text(st.sampled_from(",'\"\\[](){} a")), st.text())
scalars = st.one_of(st.none(), st.booleans(), st.integers(), finite_floats, texts)
non_null_scalars = st.one_of(st.booleans(), st.integers(), finite_floats, texts)
iso_dates = st.dates().map(lambda day: day.isoformat())

# (operator written in the key, operator parsed, date_part, value strategy, how the value is normalised)
SHAPES = [
    ("", "exact", False, scalars, None),
    ("__exact", "exact", False, scalars, None),
    ("__iexact", "iexact", False, scalars, None),
    *(
        (f"__{op}", op, False, non_null_scalars, None)
        for op in ("contains", "icontains", "startswith", "istartswith", "endswith", "iendswith")
    ),
    *((f"__{op}", op, False, non_null_scalars, None) for op in ("gt", "gte", "lt", "lte")),
    ("__in", "in", False, st.lists(scalars, max_size=4), tuple),
    ("__in", "in", False, st.lists(scalars, max_size=4).map(tuple), tuple),
    ("__in", "in", False, non_null_scalars, lambda value: (value,)),
    ("__range", "range", False, st.tuples(non_null_scalars, non_null_scalars), tuple),
    ("__isnull", "isnull", False, st.booleans(), None),
    ("__date", "date", False, iso_dates, None),
    *((f"__date__{op}", op, True, iso_dates, None) for op in ("exact", "gt", "gte", "lt", "lte")),
    ("__date__in", "in", True, st.lists(iso_dates, max_size=3), tuple),
    ("__date__isnull", "isnull", True, st.booleans(), None),
]
# (name written in the key, with an optional relation hop, and the field it means)
NAMES = [
    ("pk", "id"),
    ("id", "id"),
    ("subject", "subject"),
    ("subject__nickname", "subject"),
    ("lab__name", "lab"),
    ("users__username", "users"),
    ("session__id", "session"),
    ("session__pk", "session"),
    ("narrative", "narrative"),
    ("start_time", "start_time"),
]


@st.composite
def written_lookups(draw: st.DrawFn) -> tuple[str, Any, Lookup]:
    """A key as ONE writes it, the Python value it sends, and the lookup that pair stands for."""
    written, operator, date_part, values, normalise = draw(st.sampled_from(SHAPES))
    name, field = draw(st.sampled_from(NAMES))
    negate = draw(st.booleans())
    value = draw(values)
    expected_value = normalise(value) if normalise else value
    key = f"{'~' if negate else ''}{name}{written}"
    return key, value, Lookup(field, operator, expected_value, negate=negate, date_part=date_part)


@given(st.lists(written_lookups(), max_size=6))
def test_lookups_formatted_like_one_parse_back_to_the_same_lookups(
    drawn: list[tuple[str, Any, Lookup]],
) -> None:
    text = ",".join(f"{key},{value!r}" for key, value, _ in drawn)
    assert parse(text) == [lookup for _, _, lookup in drawn]


@given(st.lists(texts, max_size=5))
def test_any_list_of_strings_survives_the_round_trip(values: list[str]) -> None:
    assert parse(f"pk__in,{values!r}") == [Lookup("id", "in", tuple(values))]
