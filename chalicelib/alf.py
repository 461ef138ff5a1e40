"""The ALF (ALyx Files) naming convention: parse, validate and build session, dataset and file names.

Every dataset that ONE clients download, and every file that the pipeline registers, is addressed by an
ALF path::

    [lab/Subjects/]subject/YYYY-MM-DD/NNN/[collection/][#revision#/]_namespace_object.attribute[_timescale][.extra...][.uuid].extension

Storage keys, dataset types and revision look-ups are all derived from these names, so one strict
implementation lives here.  The value types are frozen dataclasses that validate in
``__post_init__``: an invalid ALF name can never exist as an object, and every object prints to a string
that parses back to an equal object (the property tests check this).  Any invalid input raises
:class:`ALFError`, a ``BadRequest`` whose message names the offending part so a user knows what to fix.

The grammar follows ONE's ``one.alf.spec`` (ONE 3.x) so that ONE clients and this server split names the
same way; in particular, an attribute is camelCase and may only carry the ``_times`` or ``_intervals``
suffix, and anything after a further underscore is the timescale (``trials.stimOn_times_bpod.npy`` is
attribute ``stimOn_times`` with timescale ``bpod``).  It is deliberately stricter than ONE where ONE's
regular expressions accept names that are ambiguous or unsafe as storage keys; see the notes on each
pattern below.
"""

from __future__ import annotations

import datetime
import re
import uuid as uuidlib
from dataclasses import dataclass

from chalicelib.errors import BadRequest

__all__ = [
    "ALFError",
    "LAB",
    "SUBJECT",
    "DATE",
    "NUMBER",
    "COLLECTION_FOLDER",
    "REVISION",
    "NAMESPACE",
    "OBJECT",
    "ATTRIBUTE",
    "TIMESCALE",
    "EXTRA",
    "EXTENSION",
    "UUID",
    "SessionPath",
    "FileName",
    "DatasetPath",
    "FullPath",
    "parse_session_path",
    "parse_filename",
    "parse_dataset_path",
    "parse_path",
    "build_session_path",
    "is_valid_nickname",
]


class ALFError(BadRequest):
    """An ALF name or path is invalid.

    It is a ``BadRequest`` so the API answers 400 with the message as ``detail`` without any mapping of
    its own.  ``part`` names the ALF part at fault (``"subject"``, ``"revision"``, ...) for callers that
    want to react programmatically; it is not added to the HTTP body, which keeps its one shape.
    """

    def __init__(self, detail: str, *, part: str | None = None) -> None:
        super().__init__(detail)
        self.part = part


# --------------------------------------------------------------------------------------------------------
# Patterns.  All are anchored with \A...\Z (``$`` would accept a trailing newline) and compiled with
# re.ASCII: with Unicode ``\w``/``\d`` a name such as '٢٠٢٤-٠١-٠١' would pass as a date, and non-ASCII
# names make fragile storage keys and URLs.  Because they are anchored, ``match``, ``fullmatch`` and
# ``search`` all validate a whole name.
# --------------------------------------------------------------------------------------------------------

LAB = re.compile(r"\A\w+\Z", re.ASCII)
"""A lab name: letters, digits and underscores (ONE: ``\\w+``)."""

SUBJECT = re.compile(r"\A(?!\.\.?\Z)[\w.-]+\Z", re.ASCII)
"""A subject nickname: letters, digits, ``_``, ``.`` and ``-`` (ONE: ``[\\w.-]+``).

Unlike ONE, ``.`` and ``..`` are refused: the subject is a bare path segment, and URL normalisation would
turn ``lab/Subjects/../2024-01-01/001`` into another lab's folder.
"""

DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z", re.ASCII)
"""The shape of a session date; it must also be a real calendar date (checked separately)."""

NUMBER = re.compile(r"\A\d{1,3}\Z", re.ASCII)
"""A session number as written in a path: 1 to 3 digits, zero padding optional (``1``, ``01``, ``001``)."""

COLLECTION_FOLDER = re.compile(r"\A(?!\.\.?\Z)[\w.-]+\Z", re.ASCII)
"""One folder of a collection (ONE allows ``[\\w./-]+`` for the whole collection).

``.`` and ``..`` are refused so that a collection can never climb out of its session folder.
"""

REVISION = re.compile(r"\A[\w.-]+\Z", re.ASCII)
"""A revision name, written in the path between ``#`` signs (ONE: ``[\\w.-]+``)."""

NAMESPACE = re.compile(r"\A[a-zA-Z0-9]+\Z")
"""A namespace, written ``_namespace_`` before the object; no underscores, or the object would be lost."""

OBJECT = re.compile(r"\A[a-zA-Z0-9]\w*\Z", re.ASCII)
"""An object: no dots; underscores allowed inside (``ephysData_g0_t0``) but not first.

ONE allows any ``\\w+``, which makes ``_foo.attr.npy`` parse as namespace ``fo`` and object ``o``; a
leading underscore is reserved for the namespace here, so such names are refused instead.
"""

ATTRIBUTE = re.compile(r"\A(?:_[a-z]+_)?[a-zA-Z0-9]+(?:_times|_intervals)?\Z")
"""An attribute: camelCase, with an optional ``_times`` or ``_intervals`` suffix (``goCue_times``).

This is ONE's attribute pattern, including its deprecated attribute-level namespace (``channels._phy_ids``)
which still occurs in existing data.  In a file name, any further underscore starts the timescale.
"""

TIMESCALE = re.compile(r"\A[a-zA-Z0-9]+(?:_[a-zA-Z0-9]+)*\Z")
"""A timescale: words joined by single underscores (``bpod``, ``ephysClock_minutes``).

ONE allows any ``\\w+``; leading, trailing and doubled underscores are refused here since they cannot be
told apart from the separator.
"""

EXTRA = re.compile(r"\A[a-zA-Z0-9_-]+\Z")
"""One extra part between the attribute and the extension (``ap``, ``imec0``, ``raw``)."""

EXTENSION = re.compile(r"\A[a-zA-Z0-9]+\Z")
"""The file extension, without its dot; required."""

UUID = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
"""A dataset uuid as stored in remote file names: lowercase canonical 8-4-4-4-12 hex.

Uppercase or unhyphenated forms are not taken for a uuid (they remain ordinary extras), so that only the
form the server writes is ever stripped from a name.
"""

# How a path is routed between "subject/date/number" and "lab/Subjects/subject/date/number" before the
# parts are validated: by the shape of the date, so a wrong date still gets a message about the date.
_DATE_SHAPE = re.compile(r"\A\d{4}-\d{1,2}-\d{1,2}\Z", re.ASCII)

# Splits "attribute[_timescale]" the way ONE's FILE_SPEC does: the attribute takes its _times/_intervals
# suffix only when that suffix ends the attribute ("goCue_times_bpod"), never a longer word ("a_timesX").
_ATTRIBUTE_AND_TIMESCALE = re.compile(
    r"\A(?P<attribute>(?:_[a-z]+_)?[a-zA-Z0-9]+(?:_times(?=_|\Z)|_intervals(?=_|\Z))?)"
    r"(?:_(?P<timescale>[\s\S]*))?\Z"
)

_REVISION_FOLDER = re.compile(r"\A#([\s\S]*)#\Z")

_SESSION_FORMAT = "[lab/Subjects/]subject/YYYY-MM-DD/NNN"
_FILE_FORMAT = "[_namespace_]object.attribute[_timescale][.extra...].extension"


def _invalid(part: str, value: object, reason: str) -> ALFError:
    """Build the error for one bad part, so that every message reads "ALF <part> <value> is invalid"."""
    return ALFError(f"ALF {part} {value!r} is invalid: {reason}", part=part)


def _check(pattern: re.Pattern[str], part: str, value: object, reason: str) -> str:
    """Return ``value`` if it is a string matching ``pattern`` in full; otherwise raise :class:`ALFError`."""
    if not isinstance(value, str):
        raise _invalid(part, value, f"must be a string, not {type(value).__name__}")
    if not pattern.match(value):
        raise _invalid(part, value, reason)
    return value


MAX_PATH = 1024  # S3 object keys hold at most 1024 bytes
MAX_NAME = 255  # a file or folder name, as on every file system


def _check_text(text: object, what: str) -> str:
    """Reject inputs that are not plain POSIX-style relative path strings, before splitting them."""
    if not isinstance(text, str):
        raise _invalid(what, text, f"must be a string, not {type(text).__name__}")
    if not text:
        raise _invalid(what, text, "must not be empty")
    if len(text) > MAX_PATH:
        raise ALFError(f"ALF {what} is invalid: {len(text)} characters, at most {MAX_PATH}", part=what)
    long = next((name for name in text.split("/") if len(name) > MAX_NAME), None)
    if long is not None:
        raise ALFError(
            f"ALF {what} is invalid: a name of {len(long)} characters ({long[:20]}...), at most {MAX_NAME}",
            part=what,
        )
    if "\\" in text:
        raise _invalid(what, text, "backslashes are not accepted; separate folders with '/'")
    if text.startswith("/"):
        raise _invalid(what, text, "must be relative (no leading '/')")
    return text


# --------------------------------------------------------------------------------------------------------
# Session
# --------------------------------------------------------------------------------------------------------


def _parse_date(value: object) -> datetime.date:
    """Turn 'YYYY-MM-DD' (or a date) into a date, refusing impossible dates such as 2024-02-30."""
    if isinstance(value, datetime.datetime):
        raise _invalid("date", value, "must be a datetime.date or 'YYYY-MM-DD', not a datetime")
    if isinstance(value, datetime.date):
        return value
    text = _check(DATE, "date", value, "expected YYYY-MM-DD")
    year, month, day = (int(piece) for piece in text.split("-"))
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise _invalid("date", value, f"not a real calendar date ({exc})") from None


def _parse_number(value: object) -> int:
    """Turn '1', '01', '001' (or an int) into the session number, which must lie in 0..999."""
    if isinstance(value, bool):
        raise _invalid("number", value, "must be an integer from 0 to 999 or 1-3 digits")
    if isinstance(value, int):
        if not 0 <= value <= 999:
            raise _invalid("number", value, "must be from 0 to 999")
        return value
    return int(_check(NUMBER, "number", value, "expected 1 to 3 digits, e.g. '001'"))


@dataclass(frozen=True)
class SessionPath:
    """A session folder: ``[lab/Subjects/]subject/YYYY-MM-DD/NNN``.

    The lab is optional because ONE caches and local rigs often omit it; when present, the literal folder
    ``Subjects`` always follows it.  The number is an int so that '1', '01' and '001' are the same session;
    it is always written zero-padded to three digits.
    """

    subject: str
    date: datetime.date
    number: int
    lab: str | None = None

    def __post_init__(self) -> None:
        _check(SUBJECT, "subject", self.subject, "use letters, digits, '_', '.' or '-' (not '.' or '..')")
        if isinstance(self.date, datetime.datetime) or not isinstance(self.date, datetime.date):
            raise _invalid("date", self.date, "must be a datetime.date (use build_session_path for strings)")
        if isinstance(self.number, bool) or not isinstance(self.number, int):
            raise _invalid("number", self.number, "must be an int (use build_session_path for strings)")
        _parse_number(self.number)
        if self.lab is not None:
            _check(LAB, "lab", self.lab, "use letters, digits and '_' only (None when there is no lab)")

    def __str__(self) -> str:
        tail = f"{self.subject}/{self.date.isoformat()}/{self.number:03d}"
        return tail if self.lab is None else f"{self.lab}/Subjects/{tail}"


def build_session_path(
    subject: str,
    date: datetime.date | str,
    number: int | str,
    lab: str | None = None,
) -> SessionPath:
    """Build a :class:`SessionPath` from user-facing values ('2024-01-31', '001'), validating each part."""
    return SessionPath(subject=subject, date=_parse_date(date), number=_parse_number(number), lab=lab)


def is_valid_nickname(text: str) -> bool:
    """Whether ``text`` is a valid subject nickname, i.e. can be used as the subject folder of a session."""
    return isinstance(text, str) and SUBJECT.match(text) is not None


def _session_length(parts: list[str], text: str) -> int:
    """How many leading path parts form the session folder: 3 without a lab, 5 with lab/Subjects.

    Routing by the shapes of the date and number (not their validity) lets a bad date or a misspelt
    ``Subjects`` get a message about that part, rather than a vague "not a session path".
    """
    if len(parts) > 1 and _DATE_SHAPE.match(parts[1]):
        return 3
    if len(parts) > 1 and parts[1] == "Subjects":
        return 5
    if len(parts) > 4 and _DATE_SHAPE.match(parts[3]) and NUMBER.match(parts[4]):
        return 5
    if len(parts) > 3 and _DATE_SHAPE.match(parts[2]) and NUMBER.match(parts[3]):
        raise ALFError(
            f"ALF Subjects folder missing in {text!r}: a lab folder ({parts[0]!r}) must be followed by the "
            f"literal folder 'Subjects', as in {_SESSION_FORMAT}",
            part="Subjects",
        )
    return 3


def _session_from_parts(parts: list[str], length: int, text: str) -> SessionPath:
    """Validate the session parts (``length`` is 3 or 5, from :func:`_session_length`) and build them."""
    if len(parts) != length:
        expected = "lab/Subjects/subject/YYYY-MM-DD/NNN" if length == 5 else _SESSION_FORMAT
        raise ALFError(f"ALF session path {text!r} is invalid: expected {expected}", part="session path")
    if length == 5:
        lab, literal, subject, date, number = parts
        if literal != "Subjects":
            raise ALFError(
                f"ALF Subjects folder {literal!r} is invalid: the lab {lab!r} must be followed by the "
                f"literal folder 'Subjects' (in {text!r})",
                part="Subjects",
            )
        return build_session_path(subject, date, number, lab=lab)
    subject, date, number = parts
    return build_session_path(subject, date, number)


def parse_session_path(text: str) -> SessionPath:
    """Parse ``[lab/Subjects/]subject/YYYY-MM-DD/NNN`` (one trailing '/' is tolerated, as folders often
    carry one); anything after the number is refused, since a dataset path belongs to :func:`parse_path`.
    """
    text = _check_text(text, "session path")
    body = text[:-1] if text.endswith("/") else text
    parts = body.split("/")
    length = _session_length(parts, text)
    if len(parts) > length:
        raise ALFError(
            f"ALF session path {text!r} is invalid: unexpected parts after the session number "
            f"(expected {_SESSION_FORMAT}; use parse_path for dataset paths)",
            part="session path",
        )
    return _session_from_parts(parts, length, text)


# --------------------------------------------------------------------------------------------------------
# File name
# --------------------------------------------------------------------------------------------------------


def _split_attribute(text: str) -> tuple[str, str | None]:
    """Split "attribute[_timescale]" as ONE does; the parts are validated by :class:`FileName`."""
    match = _ATTRIBUTE_AND_TIMESCALE.match(text)
    if match is None:
        raise _invalid(
            "attribute",
            text,
            "expected a camelCase word with an optional '_times' or '_intervals' suffix "
            "(anything after another '_' is the timescale)",
        )
    return match["attribute"], match["timescale"]


@dataclass(frozen=True)
class FileName:
    """An ALF file name: ``[_namespace_]object.attribute[_timescale][.extra...][.uuid].extension``.

    ``uuid`` is the dataset id that the server inserts before the extension of remote files so that a new
    version of a file never overwrites a cached old one; it is kept apart from ``extra`` so the logical
    name (:meth:`without_uuid`) and the dataset type do not depend on it.
    """

    object: str
    attribute: str
    extension: str
    namespace: str | None = None
    timescale: str | None = None
    extra: tuple[str, ...] = ()
    uuid: str | None = None

    def __post_init__(self) -> None:
        if self.namespace is not None:
            _check(NAMESPACE, "namespace", self.namespace, "use letters and digits only (no underscores)")
        _check(
            OBJECT,
            "object",
            self.object,
            "use letters, digits and '_' (not first); no dots",
        )
        _check(
            ATTRIBUTE,
            "attribute",
            self.attribute,
            "expected a camelCase word with an optional '_times' or '_intervals' suffix; no dots "
            "(put anything else after '_' in the timescale)",
        )
        if self.timescale is not None:
            _check(
                TIMESCALE,
                "timescale",
                self.timescale,
                "use words of letters and digits joined by single '_'; no dots",
            )
            # 'trials.a' + timescale 'times' would print as 'trials.a_times', which reads back as the
            # attribute 'a_times': refuse such pairs so that printing and parsing agree.
            if _split_attribute(f"{self.attribute}_{self.timescale}") != (self.attribute, self.timescale):
                raise _invalid(
                    "timescale",
                    self.timescale,
                    f"after attribute {self.attribute!r} it would read as part of the attribute "
                    f"({self.attribute}_{self.timescale!s}); rename the timescale",
                )
        if isinstance(self.extra, list):
            object.__setattr__(self, "extra", tuple(self.extra))
        if not isinstance(self.extra, tuple):
            raise _invalid("extra", self.extra, "must be a tuple of strings")
        for part in self.extra:
            _check(EXTRA, "extra", part, "use letters, digits, '_' or '-'; no dots, not empty")
        if self.extra and UUID.match(self.extra[-1]):
            raise _invalid(
                "extra",
                self.extra[-1],
                "it is a uuid in the last place before the extension, which is where the file's uuid goes; "
                "a file name carries at most one uuid (set it as uuid)",
            )
        if self.uuid is not None:
            _check(UUID, "uuid", self.uuid, "expected a lowercase 8-4-4-4-12 hexadecimal uuid")
        _check(EXTENSION, "extension", self.extension, "use letters and digits only, without the dot")

    def __str__(self) -> str:
        head = f"_{self.namespace}_{self.object}" if self.namespace else self.object
        attribute = f"{self.attribute}_{self.timescale}" if self.timescale else self.attribute
        tail = (*self.extra, self.uuid) if self.uuid else self.extra
        return ".".join((head, attribute, *tail, self.extension))

    @property
    def dataset_type(self) -> str:
        """``object.attribute``: the name that Alyx matches against dataset types with a blank
        ``filename_pattern`` (namespace, timescale, extras and extension do not count)."""
        return f"{self.object}.{self.attribute}"

    def with_uuid(self, uuid: str | uuidlib.UUID | None) -> FileName:
        """The same name carrying ``uuid`` (replacing any previous one), as stored remotely."""
        if isinstance(uuid, uuidlib.UUID):
            uuid = str(uuid)
        return FileName(
            object=self.object,
            attribute=self.attribute,
            extension=self.extension,
            namespace=self.namespace,
            timescale=self.timescale,
            extra=self.extra,
            uuid=uuid,
        )

    def without_uuid(self) -> FileName:
        """The logical name, as ONE clients see it in their local cache."""
        return self.with_uuid(None)


def parse_filename(text: str) -> FileName:
    """Parse a file name (no folders).  A lowercase uuid just before the extension goes to ``uuid``."""
    text = _check_text(text, "file name")
    if "/" in text:
        raise _invalid("file name", text, "must not contain '/' (use parse_dataset_path for folders)")
    pieces = text.split(".")
    if len(pieces) < 3:
        raise _invalid(
            "file name",
            text,
            f"expected {_FILE_FORMAT}: an object, an attribute and an extension are required",
        )
    head, attribute_part, *extra, extension = pieces

    namespace: str | None = None
    object_ = head
    if head.startswith("_"):
        closing = head.find("_", 1)
        if closing == -1:
            raise ALFError(
                f"ALF namespace in {head!r} is invalid: a namespace starts with '_' and must be closed by "
                "another '_' before the object, as in '_ibl_trials'",
                part="namespace",
            )
        namespace, object_ = head[1:closing], head[closing + 1 :]
        if not namespace:
            raise _invalid("namespace", namespace, "must not be empty (the name starts with '__')")

    attribute, timescale = _split_attribute(attribute_part)
    uuid: str | None = None
    if extra and UUID.match(extra[-1]):
        uuid = extra.pop()
    return FileName(
        object=object_,
        attribute=attribute,
        extension=extension,
        namespace=namespace,
        timescale=timescale,
        extra=tuple(extra),
        uuid=uuid,
    )


# --------------------------------------------------------------------------------------------------------
# Dataset and full paths
# --------------------------------------------------------------------------------------------------------


def _check_collection(collection: object) -> None:
    """A collection is '' or '/'-separated folders; each folder is checked so the message can name it."""
    if not isinstance(collection, str):
        raise _invalid("collection", collection, f"must be a string, not {type(collection).__name__}")
    if collection == "":
        return
    for folder in collection.split("/"):
        if folder == "":
            raise _invalid("collection", collection, "has an empty folder (leading, trailing or doubled '/')")
        if _REVISION_FOLDER.match(folder):
            raise _invalid(
                "collection",
                collection,
                f"folder {folder!r} looks like a revision; a revision folder must come last, directly "
                "before the file name (pass it as revision)",
            )
        if not COLLECTION_FOLDER.match(folder):
            raise _invalid(
                "collection",
                collection,
                f"folder {folder!r} must use letters, digits, '_', '.' or '-' and must not be '.' or '..'",
            )


@dataclass(frozen=True)
class DatasetPath:
    """A dataset relative to its session folder: ``[collection/][#revision#/]filename``.

    ``collection`` and ``revision`` are '' when absent (as in Alyx and ONE's cache tables), so they can be
    compared and sorted without None checks.  ``revision`` is stored without its '#' signs.
    """

    filename: FileName
    collection: str = ""
    revision: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.filename, FileName):
            raise _invalid("file name", self.filename, "must be a FileName (use parse_filename)")
        _check_collection(self.collection)
        if not isinstance(self.revision, str):
            raise _invalid("revision", self.revision, f"must be a string, not {type(self.revision).__name__}")
        if self.revision:
            hint = " (give it without the '#' signs)" if "#" in self.revision else ""
            _check(REVISION, "revision", self.revision, f"use letters, digits, '_', '.' or '-'{hint}")

    def __str__(self) -> str:
        folders = [self.collection] if self.collection else []
        if self.revision:
            folders.append(f"#{self.revision}#")
        return "/".join((*folders, str(self.filename)))


def parse_dataset_path(text: str) -> DatasetPath:
    """Parse ``[collection/][#revision#/]filename`` relative to a session folder."""
    text = _check_text(text, "dataset path")
    *folders, name = text.split("/")
    if name == "":
        raise _invalid("dataset path", text, "has no file name (it ends with '/')")
    revision = ""
    if folders:
        match = _REVISION_FOLDER.match(folders[-1])
        if match:
            revision = match[1]
            folders.pop()
            if not revision:
                raise _invalid("revision", revision, "must not be empty ('##')")
    for folder in folders:
        if _REVISION_FOLDER.match(folder):
            if revision:
                reason = f"has two revision folders ({folder!r} and '#{revision}#'); at most one is allowed"
            else:
                reason = f"revision folder {folder!r} must come last, directly before the file name"
            raise ALFError(f"ALF revision in {text!r} is invalid: {reason}", part="revision")
    return DatasetPath(filename=parse_filename(name), collection="/".join(folders), revision=revision)


@dataclass(frozen=True)
class FullPath:
    """A dataset within its session: ``session/dataset`` (relative to the data root)."""

    session: SessionPath
    dataset: DatasetPath

    def __post_init__(self) -> None:
        if not isinstance(self.session, SessionPath):
            raise _invalid("session path", self.session, "must be a SessionPath")
        if not isinstance(self.dataset, DatasetPath):
            raise _invalid("dataset path", self.dataset, "must be a DatasetPath")

    def __str__(self) -> str:
        return f"{self.session}/{self.dataset}"


def parse_path(text: str) -> FullPath:
    """Parse a session path followed by a dataset path, e.g.
    ``lab/Subjects/SW_001/2024-01-31/001/alf/probe00/#2024-02-01#/spikes.times.npy``."""
    text = _check_text(text, "path")
    parts = text.split("/")
    length = _session_length(parts, text)
    if len(parts) <= length:
        raise _invalid("path", text, f"expected {_SESSION_FORMAT} followed by a dataset path and file name")
    session = _session_from_parts(parts[:length], length, text)
    dataset = "/".join(parts[length:])
    if dataset == "":
        raise _invalid("path", text, "has no file name after the session folder")
    return FullPath(session=session, dataset=parse_dataset_path(dataset))
