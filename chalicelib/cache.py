"""ONE cache tables: ``sessions.pqt`` and ``datasets.pqt`` exactly as ONE 3.6 loads them, zipped with
``cache_info.json``, for the whole database (``GET /cache/info``, rebuilt by the ``export_cache`` schedule
and on demand) and for each release (``chalicelib.releases``).

Why a Parquet writer of our own, in the standard library: pandas, pyarrow and numpy unpack to about
300 MB, over the 250 MB a Lambda function may hold, and the tables are written where the catalogue is
read (the ``export_cache`` function, and the API when a release is published). The tables are small and
flat (strings, dates, small integers, booleans, one categorical), so a writer of a few hundred lines covers
them: one row group, PLAIN pages left uncompressed (the zip deflates them), a dictionary page for the
ordered categorical QC column, and the two blobs pyarrow reads back to restore pandas' index and dtypes
(``pandas``, JSON, and ``ARROW:schema``, an Arrow IPC schema flatbuffer). The tests read every file back
with pyarrow and pandas and compare it with what ONE's own writer (``iblutil.io.parquet.save``) gives for
the same frame. Rejected: a pyarrow layer or container image (the size limit, or infrastructure of its
own), and exporting in an AWS Batch job (minutes of start-up for seconds of work, and a second code path
with its own image).

"Incremental where possible": a release's tables are written once, when it is published, and never again.
The database's tables are rebuilt from the catalogue (DynamoDB offers no cheaper way to see every change
without a stream), but an export whose content is unchanged writes nothing and keeps its
``date_created``, so no ONE client downloads the same tables twice.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import struct
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import ClientError

import chalicelib
from chalicelib import aws
from chalicelib.auth import Principal
from chalicelib.models import Dataset, FileRecord, Session
from chalicelib.models.base import now
from chalicelib.permissions import require_read, require_write
from chalicelib.qc import QC, qc_name

MIN_API_VERSION = "3.0.0"  # string uuids and an ordered categorical QC: what ONE 3 reads natively
DATABASE_ZIP = "cache/cache.zip"
DATABASE_INFO = "cache/cache_info.json"
INFO_FIELDS = ("date_created", "origin", "min_api_version", "database_tags")

# --- Thrift compact protocol: the encoding of Parquet's page headers and footer -----------------------

_CODES = {"byte": 3, "i16": 4, "i32": 5, "i64": 6, "binary": 8, "list": 9, "struct": 12}
_TRUE, _FALSE = 1, 2
ThriftField = tuple[int, str, Any]  # (field id, kind, value); None values are left out


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _thrift_struct(fields: Iterable[ThriftField]) -> bytes:
    out, last = bytearray(), 0
    for field_id, kind, value in fields:
        if value is None:
            continue
        code = (_TRUE if value else _FALSE) if kind == "bool" else _CODES[kind]
        delta = field_id - last
        out += bytes([delta << 4 | code]) if 0 < delta <= 15 else bytes([code]) + _varint(_zigzag(field_id))
        if kind != "bool":  # a boolean field is all in its header
            out += _thrift_value(kind, value)
        last = field_id
    out.append(0)
    return bytes(out)


def _thrift_value(kind: str, value: Any) -> bytes:
    if kind in ("i16", "i32", "i64"):
        return _varint(_zigzag(value))
    if kind == "byte":
        return bytes([value & 0xFF])
    if kind == "binary":
        data = value.encode() if isinstance(value, str) else value
        return _varint(len(data)) + data
    if kind == "struct":
        return _thrift_struct(value)
    element, items = value  # a list
    code = _CODES[element]
    head = bytes([len(items) << 4 | code]) if len(items) < 15 else bytes([0xF0 | code]) + _varint(len(items))
    return head + b"".join(_thrift_value(element, item) for item in items)


# --- FlatBuffers: the encoding of the Arrow schema pyarrow reads back (categoricals need it) -----------

_FLAT_SIZES = {"bool": 1, "u8": 1, "i16": 2, "i32": 4, "i64": 8, "offset": 4}
_FLAT_FORMATS = {"bool": "<?", "u8": "<B", "i16": "<h", "i32": "<i", "i64": "<q"}


class _Flat:
    """A flatbuffer table: one (kind, value) per field slot in schema order, None for an absent field.
    An "offset" value is another table, a string or a list of tables."""

    def __init__(self, *slots: tuple[str, Any] | None) -> None:
        self.slots = slots


class _FlatBuilder:
    """Writes front to back: every table, string and vector after whatever refers to it (flatbuffer
    offsets point forward), each field aligned to its size, each vtable just before its table."""

    def __init__(self) -> None:
        self.buf = bytearray(4)  # the root offset

    def finish(self, root: _Flat) -> bytes:
        struct.pack_into("<I", self.buf, 0, self._object(root))
        self._align(8)
        return bytes(self.buf)

    def _align(self, size: int) -> None:
        self.buf += bytes(-len(self.buf) % size)

    def _object(self, value: Any) -> int:
        if isinstance(value, str):
            data = value.encode()
            self._align(4)
            start = len(self.buf)
            self.buf += struct.pack("<I", len(data)) + data + b"\0"
            return start
        if isinstance(value, list):
            self._align(4)
            start = len(self.buf)
            self.buf += struct.pack("<I", len(value)) + bytes(4 * len(value))
            for i, item in enumerate(value):
                self._point(start + 4 + 4 * i, item)
            return start
        return self._table(value)

    def _point(self, at: int, value: Any) -> None:
        struct.pack_into("<I", self.buf, at, self._object(value) - at)

    def _table(self, table: _Flat) -> int:
        slots = table.slots
        self._align(2)
        vtable = len(self.buf)
        self.buf += bytes(4 + 2 * len(slots))
        self._align(4)
        start = len(self.buf)
        self.buf += struct.pack("<i", start - vtable)
        placed, children = [0] * len(slots), []
        present = [i for i, slot in enumerate(slots) if slot is not None]
        for index in sorted(present, key=lambda i: -_FLAT_SIZES[slots[i][0]]):
            kind, value = slots[index]
            self._align(_FLAT_SIZES[kind])
            placed[index] = len(self.buf) - start
            if kind == "offset":
                children.append((len(self.buf), value))
                self.buf += bytes(4)
            else:
                self.buf += struct.pack(_FLAT_FORMATS[kind], value)
        struct.pack_into(
            f"<{2 + len(slots)}H", self.buf, vtable, 4 + 2 * len(slots), len(self.buf) - start, *placed
        )
        for at, child in children:
            self._point(at, child)
        return start


def _arrow_int(bits: int, signed: bool) -> _Flat:
    return _Flat(("i32", bits), ("bool", signed))


# --- Columns: how each kind of value is stored, shown to pandas and typed for Arrow ---------------------

BOOLEAN, INT32, INT64, BYTE_ARRAY = 0, 1, 2, 6  # Parquet physical types
UTF8, DATE, UINT_16, UINT_64 = 0, 6, 12, 14  # Parquet converted types (what old readers look at)
OPTIONAL = 1
PLAIN, RLE, RLE_DICTIONARY = 0, 3, 8  # encodings
DATA_PAGE, DICTIONARY_PAGE = 0, 2
ARROW_INT, ARROW_UTF8, ARROW_BOOL, ARROW_DATE = 2, 5, 6, 8  # Arrow's Type union
EPOCH = datetime.date(1970, 1, 1)
STRING_TYPE = [(1, "struct", [])]  # Parquet LogicalType STRING
DATE_TYPE = [(6, "struct", [])]  # Parquet LogicalType DATE


def _unsigned(bits: int) -> list[ThriftField]:
    return [(10, "struct", [(1, "byte", bits), (2, "bool", False)])]  # Parquet LogicalType INTEGER


@dataclass(frozen=True)
class _Kind:
    physical: int
    converted: int | None
    logical: list[ThriftField] | None
    pandas_type: str
    numpy_type: str  # what pandas' dtype was: pyarrow rebuilds it from this
    arrow_type: int
    arrow: _Flat


KINDS = {
    "string": _Kind(BYTE_ARRAY, UTF8, STRING_TYPE, "unicode", "object", ARROW_UTF8, _Flat()),
    "date": _Kind(INT32, DATE, DATE_TYPE, "date", "object", ARROW_DATE, _Flat(("i16", 0))),  # unit: day
    "uint16": _Kind(INT32, UINT_16, _unsigned(16), "uint16", "uint16", ARROW_INT, _arrow_int(16, False)),
    # nullable: pandas' UInt64 extension type, which ONE gives file sizes
    "uint64": _Kind(INT64, UINT_64, _unsigned(64), "uint64", "UInt64", ARROW_INT, _arrow_int(64, False)),
    "bool": _Kind(BOOLEAN, None, None, "bool", "bool", ARROW_BOOL, _Flat()),
    # stored as text with a dictionary page; Arrow's schema says the codes are int8 and ordered
    "category": _Kind(BYTE_ARRAY, UTF8, STRING_TYPE, "categorical", "int8", ARROW_UTF8, _Flat()),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    categories: tuple[str, ...] = ()  # a "category" column's ordered categories


@dataclass(frozen=True)
class TableSpec:
    """A table's index columns and data columns, in the order pandas shows them."""

    index: tuple[Column, ...]
    columns: tuple[Column, ...]

    @property
    def all(self) -> tuple[Column, ...]:
        return self.columns + self.index  # pyarrow's order: data, then index


QC_CATEGORIES = tuple(sorted(QC, key=QC.__getitem__))  # ONE's QC_TYPE: NOT_SET < PASS < ... < CRITICAL

SESSIONS = TableSpec(
    index=(Column("id", "string"),),
    columns=(
        Column("lab", "string"),
        Column("subject", "string"),
        Column("date", "date"),
        Column("number", "uint16"),
        Column("task_protocol", "string"),
        Column("projects", "string"),
    ),
)
SESSIONS_FIELDS = tuple(column.name for column in SESSIONS.columns)
DATASETS = TableSpec(
    index=(Column("eid", "string"), Column("id", "string")),
    columns=(
        Column("rel_path", "string"),
        Column("file_size", "uint64"),
        Column("hash", "string"),
        Column("exists", "bool"),
        Column("qc", "category", QC_CATEGORIES),
        Column("default_revision", "bool"),
    ),
)


# --- Parquet ---------------------------------------------------------------------------------------------


def _bitpack(values: Sequence[int], width: int) -> bytes:
    """Values packed least significant bit first, in groups of eight (Parquet's bit-packed layout)."""
    out = bytearray()
    for start in range(0, len(values), 8):
        word = 0
        for i, value in enumerate(values[start : start + 8]):
            word |= value << (i * width)
        out += word.to_bytes(width, "little")
    return bytes(out)


def _hybrid(values: Sequence[int], width: int) -> bytes:
    """The RLE / bit-packing hybrid, as a single bit-packed run."""
    return _varint(-(-len(values) // 8) << 1 | 1) + _bitpack(values, width) if values else b""


def _plain(kind: _Kind, values: list[Any]) -> bytes:
    if kind.physical == BYTE_ARRAY:
        encoded = [str(value).encode() for value in values]
        return b"".join(struct.pack("<I", len(data)) + data for data in encoded)
    if kind.physical == BOOLEAN:
        return _bitpack([1 if value else 0 for value in values], 1)
    if kind.physical == INT64:
        return struct.pack(f"<{len(values)}Q", *values)
    return struct.pack(f"<{len(values)}i", *values)


def _days(value: Any) -> int:
    day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
    return (day - EPOCH).days


def _page(page_type: int, body: bytes, header: ThriftField) -> bytes:
    sizes = [(1, "i32", page_type), (2, "i32", len(body)), (3, "i32", len(body))]  # uncompressed = stored
    return _thrift_struct([*sizes, header]) + body


def _column_chunk(column: Column, values: list[Any], offset: int) -> tuple[bytes, list[ThriftField]]:
    """The pages of one column (a dictionary page first for a categorical), and its metadata."""
    kind = KINDS[column.kind]
    present = [value for value in values if value is not None]
    levels = _hybrid([0 if value is None else 1 for value in values], 1)
    dictionary = b""
    if column.kind == "category":
        position = {name: i for i, name in enumerate(column.categories)}
        width = max(1, (len(column.categories) - 1).bit_length())
        data = bytes([width]) + _hybrid([position[value] for value in present], width)
        encoding = RLE_DICTIONARY
        dictionary = _page(
            DICTIONARY_PAGE,
            _plain(kind, list(column.categories)),
            (7, "struct", [(1, "i32", len(column.categories)), (2, "i32", PLAIN)]),
        )
    else:
        data = _plain(kind, [_days(v) for v in present] if column.kind == "date" else present)
        encoding = PLAIN
    page = _page(
        DATA_PAGE,
        struct.pack("<I", len(levels)) + levels + data,
        (5, "struct", [(1, "i32", len(values)), (2, "i32", encoding), (3, "i32", RLE), (4, "i32", RLE)]),
    )
    chunk = dictionary + page
    encodings = [PLAIN, RLE] + ([RLE_DICTIONARY] if dictionary else [])
    meta = [
        (1, "i32", kind.physical),
        (2, "list", ("i32", encodings)),
        (3, "list", ("binary", [column.name])),
        (4, "i32", 0),  # uncompressed
        (5, "i64", len(values)),
        (6, "i64", len(chunk)),
        (7, "i64", len(chunk)),
        (9, "i64", offset + len(dictionary)),
        (11, "i64", offset if dictionary else None),
    ]
    return chunk, [(2, "i64", offset), (3, "struct", meta)]


def _pandas_metadata(spec: TableSpec) -> str:
    def describe(column: Column) -> dict[str, Any]:
        kind = KINDS[column.kind]
        categorical = {"num_categories": len(column.categories), "ordered": True}
        return {
            "name": column.name,
            "field_name": column.name,
            "pandas_type": kind.pandas_type,
            "numpy_type": kind.numpy_type,
            "metadata": categorical if column.kind == "category" else None,
        }

    return json.dumps(
        {
            "index_columns": [column.name for column in spec.index],
            "column_indexes": [
                {
                    "name": None,
                    "field_name": None,
                    "pandas_type": "unicode",
                    "numpy_type": "object",
                    "metadata": {"encoding": "UTF-8"},
                }
            ],
            "columns": [describe(column) for column in spec.all],
            "attributes": {},
            "creator": {"library": "onecloud", "version": chalicelib.__version__},
        }
    )


def _arrow_schema(spec: TableSpec, metadata: dict[str, str]) -> bytes:
    """The Arrow IPC message of the table's schema, as pyarrow stores it under ``ARROW:schema``."""
    fields = []
    for number, column in enumerate(spec.all):
        kind = KINDS[column.kind]
        dictionary = (
            ("offset", _Flat(("i64", number), ("offset", _arrow_int(8, True)), ("bool", True)))
            if column.kind == "category"
            else None
        )
        fields.append(
            _Flat(
                ("offset", column.name),
                ("bool", True),
                ("u8", kind.arrow_type),
                ("offset", kind.arrow),
                dictionary,
                ("offset", []),
            )
        )
    pairs = [_Flat(("offset", key), ("offset", value)) for key, value in metadata.items()]
    schema = _Flat(None, ("offset", fields), ("offset", pairs))
    message = _FlatBuilder().finish(_Flat(("i16", 4), ("u8", 1), ("offset", schema)))  # V5, a Schema
    return struct.pack("<iI", -1, len(message)) + message


def write_parquet(spec: TableSpec, rows: Sequence[dict[str, Any]], one_metadata: dict[str, Any]) -> bytes:
    """A Parquet file of ``rows`` (dicts keyed by column name) that pandas reads back with the spec's
    index and dtypes, its ``one_metadata`` holding what ONE reads (``date_created``, ``origin``...)."""
    metadata = {"pandas": _pandas_metadata(spec), "one_metadata": json.dumps(one_metadata)}
    body, chunks = bytearray(b"PAR1"), []
    for column in spec.all:
        chunk, meta = _column_chunk(column, [row.get(column.name) for row in rows], len(body))
        body += chunk
        chunks.append(meta)
    size = len(body) - 4
    row_group = [(1, "list", ("struct", chunks)), (2, "i64", size), (3, "i64", len(rows))]
    row_group += [(5, "i64", 4), (6, "i64", size)]  # where it starts, its stored size
    schema = [[(4, "binary", "schema"), (5, "i32", len(spec.all))]] + [
        [
            (1, "i32", KINDS[column.kind].physical),
            (3, "i32", OPTIONAL),
            (4, "binary", column.name),
            (6, "i32", KINDS[column.kind].converted),
            (10, "struct", KINDS[column.kind].logical),
        ]
        for column in spec.all
    ]
    pairs = {**metadata, "ARROW:schema": base64.b64encode(_arrow_schema(spec, metadata)).decode()}
    footer = _thrift_struct(
        [
            (1, "i32", 2),
            (2, "list", ("struct", schema)),
            (3, "i64", len(rows)),
            (4, "list", ("struct", [row_group])),
            (5, "list", ("struct", [[(1, "binary", k), (2, "binary", v)] for k, v in pairs.items()])),
            (6, "binary", f"onecloud version {chalicelib.__version__}"),
        ]
    )
    return bytes(body + footer + struct.pack("<I", len(footer)) + b"PAR1")


# --- ONE's tables, zipped --------------------------------------------------------------------------------


def session_row(session: Session) -> dict[str, Any]:
    """A sessions table row; projects are one comma-separated text, which ONE's search matches by part."""
    return {
        "id": session.id,
        "lab": session.lab,
        "subject": session.subject,
        "date": session.date,
        "number": int(session.number),
        "task_protocol": session.task_protocol or "",
        "projects": ",".join(session.projects or []),
    }


def dataset_row(dataset: Dataset, *, exists: bool) -> dict[str, Any]:
    """A datasets table row; ``rel_path`` is relative to the session, revision folder included."""
    return {
        "eid": dataset.session,
        "id": dataset.id,
        "rel_path": dataset.relative_path,
        "file_size": None if dataset.file_size is None else int(dataset.file_size),
        "hash": dataset.hash,
        "exists": exists,
        "qc": qc_name(dataset.qc),
        "default_revision": bool(dataset.default_dataset),
    }


@dataclass(frozen=True)
class CacheTables:
    """The rows of both tables, sorted by index (ONE sorts unsorted tables itself, at every load)."""

    sessions: list[dict[str, Any]]
    datasets: list[dict[str, Any]]

    @classmethod
    def of(cls, sessions: Iterable[dict[str, Any]], datasets: Iterable[dict[str, Any]]) -> CacheTables:
        return cls(
            sorted(sessions, key=lambda row: row["id"]),
            sorted(datasets, key=lambda row: (row["eid"], row["id"])),
        )

    def digest(self) -> str:
        """What the tables hold, not when they were written: equal digests, equal tables."""
        text = json.dumps([self.sessions, self.datasets], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def origin() -> str:
    """The database's name in ONE's table metadata: ONE re-downloads tables whose origin changes."""
    return f"onecloud-{aws.settings().stage}"


def cache_zip(tables: CacheTables, info: dict[str, Any]) -> bytes:
    """``sessions.pqt``, ``datasets.pqt`` and ``cache_info.json``: what ONE unzips into its cache folder."""
    metadata = {key: info[key] for key in ("date_created", "origin", "min_api_version")}
    if info.get("database_tags"):
        metadata["database_tags"] = info["database_tags"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sessions.pqt", write_parquet(SESSIONS, tables.sessions, metadata))
        archive.writestr("datasets.pqt", write_parquet(DATASETS, tables.datasets, metadata))
        archive.writestr("cache_info.json", json.dumps(info, indent=1))
    return buffer.getvalue()


def new_info(tags: Sequence[str] = (), **extra: Any) -> dict[str, Any]:
    return {
        "date_created": now(),
        "origin": origin(),
        "min_api_version": MIN_API_VERSION,
        "database_tags": list(tags),
        **extra,
    }


# --- The bucket ------------------------------------------------------------------------------------------


def put(key: str, body: bytes, content_type: str) -> None:
    aws.client("s3").put_object(
        Bucket=aws.settings().data_bucket, Key=key, Body=body, ContentType=content_type
    )


def read_json(key: str) -> dict[str, Any] | None:
    """The JSON object at ``key``, or None when there is none (or this function may not read it)."""
    try:
        answer = aws.client("s3").get_object(Bucket=aws.settings().data_bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
            return None
        raise
    return json.loads(answer["Body"].read())


def presigned_get(key: str, expires: int, version_id: str | None = None) -> str:
    """A presigned GET of ``key`` (of one version of it, given ``version_id``)."""
    params = {"Bucket": aws.settings().data_bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    return aws.client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires)


def one_download_url(key: str, expires: int) -> str:
    """A presigned GET that ONE can download as a cache ``location``.

    ONE names a download after the text following the URL's last '/', query included, and a presigned
    query (hundreds of characters, more with a session token) is longer than a file name may be. The
    signature covers the query's parameters, not their order nor how they are escaped, so the credential
    (the one value made of '/'-separated parts) goes last with its slashes unescaped: ONE names the file
    ``aws4_request``. The URL does not start with the API's URL either, so ONE sends no token along.
    """
    parts = urlsplit(presigned_get(key, expires))
    query = parts.query.split("&")
    credential = [p for p in query if p.startswith("X-Amz-Credential=")]
    others = [p for p in query if not p.startswith("X-Amz-Credential=")]
    return urlunsplit(parts._replace(query="&".join(others + [c.replace("%2F", "/") for c in credential])))


# --- The whole database, for collaborators --------------------------------------------------------------


def database_tables() -> CacheTables:
    """Every session and dataset; a dataset 'exists' when the central store holds its file (what the API
    serves), as Alyx counts only files on its servers."""
    stored = {
        record.dataset for record in FileRecord.by_path.query(aws.settings().s3_repository) if record.exists
    }
    sessions = [session_row(session) for session in Session.scan()]
    known = {row["id"] for row in sessions}
    datasets = [
        dataset_row(dataset, exists=dataset.id in stored)
        for dataset in Dataset.scan()
        if dataset.session in known
    ]
    return CacheTables.of(sessions, datasets)


def export_database(*, force: bool = False) -> dict[str, Any]:
    """Write the database's cache tables (``cache/cache.zip``, then ``cache/cache_info.json``) unless
    they would hold what the last export holds; answers the export's info either way."""
    tables = database_tables()
    digest = tables.digest()
    previous = read_json(DATABASE_INFO)
    if previous and previous.get("digest") == digest and not force:
        return previous
    info = new_info(digest=digest, sessions=len(tables.sessions), datasets=len(tables.datasets))
    put(DATABASE_ZIP, cache_zip(tables, info), "application/zip")
    put(DATABASE_INFO, json.dumps(info).encode(), "application/json")  # last: it names a complete zip
    return info


def located(info: dict[str, Any], key: str, expires: int) -> dict[str, Any]:
    """What ``GET /cache/info`` answers: the contract's fields, and where to download the zip."""
    return {**{name: info[name] for name in INFO_FIELDS}, "location": one_download_url(key, expires)}


def database_info(principal: Principal | None, expires: int) -> dict[str, Any]:
    """The database's cache info for any account; the first request ever exports the tables."""
    require_read(principal)
    info = read_json(DATABASE_INFO) or export_database()
    return located(info, DATABASE_ZIP, expires)


def rebuild(principal: Principal | None, *, force: bool, expires: int) -> dict[str, Any]:
    """An export now (superusers): after a bulk change, without waiting for the schedule."""
    require_write(principal, what="the cache tables", lab=None, lab_scoped=False)
    return located(export_database(force=force), DATABASE_ZIP, expires)
