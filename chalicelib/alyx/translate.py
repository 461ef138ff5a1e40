"""Alyx ``dumpdata`` records -> onecloud records, in the order their references need.

Alyx refers to other records by uuid; onecloud by the names Alyx's REST API shows (a subject's line by
its name, a session's users by username...). Translation runs over the whole dump at once, so every
reference resolves whatever the order of the file. Each onecloud record keeps its Alyx uuid. A record
that cannot be expressed becomes a ``Skip`` with the reason, never silently dropped.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.errors import BadRequest

# Alyx model -> onecloud kind, in dependency order (what a record names is imported before it).
ORDER: tuple[tuple[str, str], ...] = (
    ("misc.lab", "labs"),
    ("misc.labmember", "users"),
    ("misc.lablocation", "locations"),
    ("subjects.project", "projects"),
    ("subjects.species", "species"),
    ("subjects.strain", "strains"),
    ("subjects.source", "sources"),
    ("subjects.sequence", "sequences"),
    ("subjects.allele", "alleles"),
    ("actions.proceduretype", "procedures"),
    ("actions.watertype", "water-type"),
    ("actions.cullreason", "cull-reasons"),
    ("actions.cullmethod", "cull-methods"),
    ("misc.cagetype", "cage-types"),
    ("misc.food", "foods"),
    ("misc.enrichment", "enrichments"),
    ("data.dataformat", "data-formats"),
    ("data.datasettype", "dataset-types"),
    ("data.datarepository", "data-repository"),
    ("data.revision", "revisions"),
    ("subjects.line", "lines"),
    ("subjects.breedingpair", "breeding-pairs"),
    ("subjects.litter", "litters"),
    ("subjects.subjectrequest", "subject-requests"),
    ("subjects.subject", "subjects"),
    ("subjects.zygosityrule", "zygosity-rules"),
    ("subjects.zygosity", "zygosities"),
    ("subjects.genotypetest", "genotype-tests"),
    ("actions.weighing", "weighings"),
    ("actions.wateradministration", "water-administrations"),
    ("actions.waterrestriction", "water-restrictions"),
    ("actions.surgery", "surgeries"),
    ("actions.session", "sessions"),
    ("data.dataset", "datasets"),
    ("data.filerecord", "files"),
    ("actions.cull", "culls"),
    ("misc.note", "notes"),
)
KIND_OF = dict(ORDER)
# How a record of each Alyx model is named where others refer to it.
NAME_FIELD = {
    "misc.lab": "name",
    "misc.labmember": "username",
    "misc.lablocation": "name",
    "subjects.project": "name",
    "subjects.species": "nickname",
    "subjects.strain": "name",
    "subjects.source": "name",
    "subjects.sequence": "name",
    "subjects.allele": "nickname",
    "actions.proceduretype": "name",
    "actions.watertype": "name",
    "actions.cullreason": "name",
    "actions.cullmethod": "name",
    "misc.cagetype": "name",
    "misc.food": "name",
    "misc.enrichment": "name",
    "subjects.line": "name",
    "subjects.breedingpair": "name",
    "subjects.litter": "name",
    "subjects.subject": "nickname",
    "data.dataformat": "name",
    "data.datasettype": "name",
    "data.datarepository": "name",
    "data.datarepositorytype": "name",
    "data.revision": "name",
}


@dataclass(frozen=True)
class Skip:
    model: str
    pk: str
    reason: str


@dataclass
class Translation:
    """onecloud records per kind (in ORDER), what could not be translated, and how many were read."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[str, list[Skip]] = field(default_factory=lambda: defaultdict(list))
    read: dict[str, int] = field(default_factory=lambda: defaultdict(int))


IMAGE_SOURCE = "image_source"  # where a note's image is at the source (a dump's media path, a REST URL)


class _Unexpressible(Exception):
    pass


def load_dump(path: Path) -> list[dict[str, Any]]:
    """A ``dumpdata`` JSON file, plain or gzipped."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        records = json.loads(raw)
    except ValueError as error:
        raise BadRequest(f"{path}: not a JSON dump: {error}") from None
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and {"model", "pk", "fields"} <= set(r) for r in records
    ):
        raise BadRequest(f"{path}: expected Django dumpdata records [{{model, pk, fields}}, ...]")
    return records


class _Names:
    """uuid -> name for every record of the dump (and the lab of each subject)."""

    def __init__(
        self, records: Iterable[dict[str, Any]], known: dict[str, dict[str, str]] | None = None
    ) -> None:
        self.names: dict[str, dict[str, str]] = defaultdict(dict)
        for model, names in (known or {}).items():
            self.names[model].update(names)
        self.subjects: dict[str, dict[str, Any]] = {}
        self.lines: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.datasets: dict[str, dict[str, Any]] = {}
        self.content_types: dict[str, str] = {}
        self.only_lab: str | None = None
        for record in records:
            model, fields = record["model"], record["fields"]
            if model in NAME_FIELD:
                self.names[model][str(record["pk"])] = fields.get(NAME_FIELD[model])
            if model == "subjects.subject":
                self.subjects[str(record["pk"])] = fields
            if model == "subjects.line":
                self.lines[str(record["pk"])] = fields
            if model == "actions.session":
                self.sessions[str(record["pk"])] = fields
            if model == "data.dataset":
                self.datasets[str(record["pk"])] = fields
            if model == "contenttypes.contenttype":
                self.content_types[str(record["pk"])] = f"{fields.get('app_label')}.{fields.get('model')}"
        labs = list(self.names["misc.lab"].values())
        self.only_lab = labs[0] if len(labs) == 1 else None

    def name(self, model: str, pk: Any, what: str, *, required: bool = False) -> str | None:
        if pk is None or pk == "":
            if required:
                raise _Unexpressible(f"{what} is empty")
            return None
        found = self.names[model].get(str(pk))
        if found is None:
            raise _Unexpressible(f"{what} {pk} is not in the dump")
        return found

    def many(self, model: str, pks: Iterable[Any], what: str) -> list[str]:
        return [n for n in (self.name(model, pk, what) for pk in pks or []) if n]

    def lab(self, pk: Any) -> str:
        found = self.name("misc.lab", pk, "lab") if pk else self.only_lab
        if not found:
            raise _Unexpressible("no lab (and the dump has several)")
        return found

    def subject(self, pk: Any) -> dict[str, Any]:
        fields = self.subjects.get(str(pk))
        if fields is None:
            raise _Unexpressible(f"subject {pk} is not in the dump")
        return {"subject": fields["nickname"], "subject_id": str(pk), "lab": self.lab(fields.get("lab"))}

    def session_lab(self, pk: Any) -> str:
        session = self.sessions.get(str(pk))
        if session is None or not session.get("subject"):
            raise _Unexpressible(f"session {pk} is not in the dump")
        return self.subject(session["subject"])["lab"]

    def line_lab(self, pk: Any) -> str:
        line = self.lines.get(str(pk)) if pk else None
        return self.lab(line.get("lab") if line else None)


def _named(f: dict[str, Any], pk: str, n: _Names, **extra: Any) -> dict[str, Any]:
    return {
        "name": f["name"],
        "id": pk,
        "description": f.get("description") or "",
        "json": f.get("json"),
        **extra,
    }


def _date(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _moment(value: Any) -> str | None:
    """Alyx datetimes, naive as onecloud stores them (a timezone suffix is dropped)."""
    if not value:
        return None
    text = str(value).replace("Z", "")
    for sign in ("+", "-"):
        head, _, tail = text[11:].partition(sign)
        if tail:
            text = text[:11] + head
    return text.split(".")[0]


def _lab(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "name": f["name"],
        "id": pk,
        "institution": f.get("institution") or "",
        "address": f.get("address") or "",
        "timezone": f.get("timezone") or "UTC",
        "reference_weight_pct": float(f.get("reference_weight_pct") or 0),
        "zscore_weight_pct": float(f.get("zscore_weight_pct") or 0),
        "json": f.get("json"),
        "light_cycle": f.get("light_cycle"),
        "food": n.name("misc.food", f.get("food"), "food"),
        "cage_type": n.name("misc.cagetype", f.get("cage_type"), "cage type"),
        "enrichment": n.name("misc.enrichment", f.get("enrichment"), "enrichment"),
        "cage_cleaning_frequency_days": f.get("cage_cleaning_frequency_days"),
    }


def _user(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "username": f["username"],
        "id": pk,
        "email": f.get("email") or "",
        "first_name": f.get("first_name") or "",
        "last_name": f.get("last_name") or "",
        "is_superuser": bool(f.get("is_superuser")),
        "is_public_user": bool(f.get("is_public_user")),
        "is_active": bool(f.get("is_active", True)),
        "date_joined": _moment(f.get("date_joined")) or "",
    }


def _location(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    raise _Unexpressible(f"onecloud keeps a location as its name on sessions and surgeries ({f['name']})")


def _project(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    users = n.many("misc.labmember", f.get("users"), "user")
    return {"name": f["name"], "description": f.get("description") or "", "users": users}


def _species(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {"name": f["nickname"], "id": pk, "latin_name": f.get("name") or "", "json": f.get("json")}


def _allele(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    sequences = n.many("subjects.sequence", f.get("sequences"), "sequence")
    return {
        "name": f["nickname"],
        "id": pk,
        "long_name": f.get("name") or "",
        "sequences": sequences,
        "json": f.get("json"),
    }


def _vocabulary(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {"name": f["name"], "id": pk, "description": f.get("description") or ""}


def _line(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return _named(
        f,
        pk,
        n,
        lab=n.lab(f.get("lab")),
        long_name=f.get("nickname") or "",
        target_phenotype=f.get("target_phenotype") or "",
        species=n.name("subjects.species", f.get("species"), "species"),
        strain=n.name("subjects.strain", f.get("strain"), "strain"),
        source=n.name("subjects.source", f.get("source"), "source"),
        source_identifier=f.get("source_identifier") or "",
        source_url=f.get("source_url") or "",
        expression_data_url=f.get("expression_data_url") or "",
        alleles=n.many("subjects.allele", f.get("alleles"), "allele"),
        is_active=bool(f.get("is_active", True)),
    )


def _parent(n: _Names, pk: Any, role: str) -> str | None:
    return n.name("subjects.subject", pk, role)


def _breeding_pair(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return _named(
        f,
        pk,
        n,
        lab=n.line_lab(f.get("line")),
        line=n.name("subjects.line", f.get("line"), "line"),
        start_date=_date(f.get("start_date")),
        end_date=_date(f.get("end_date")),
        father=_parent(n, f.get("father"), "father"),
        mother1=_parent(n, f.get("mother1"), "mother1"),
        mother2=_parent(n, f.get("mother2"), "mother2"),
    )


def _litter(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return _named(
        f,
        pk,
        n,
        lab=n.line_lab(f.get("line")),
        line=n.name("subjects.line", f.get("line"), "line"),
        breeding_pair=n.name("subjects.breedingpair", f.get("breeding_pair"), "breeding pair"),
        birth_date=_date(f.get("birth_date")),
    )


def _request(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "id": pk,
        "lab": n.line_lab(f.get("line")),
        "user": n.name("misc.labmember", f.get("user"), "user"),
        "line": n.name("subjects.line", f.get("line"), "line"),
        "count": f.get("count"),
        "date_time": _date(f.get("date_time")),
        "due_date": _date(f.get("due_date")),
        "description": f.get("description") or "",
        "json": f.get("json"),
    }


def _subject(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    severity = f.get("actual_severity")
    return {
        "id": pk,
        "nickname": f["nickname"],
        "lab": n.lab(f.get("lab")),
        "responsible_user": n.name("misc.labmember", f.get("responsible_user"), "responsible user"),
        "sex": f.get("sex") or "U",
        "birth_date": _date(f.get("birth_date")),
        "death_date": _date(f.get("death_date")),
        "species": n.name("subjects.species", f.get("species"), "species") or "",
        "strain": n.name("subjects.strain", f.get("strain"), "strain"),
        "line": n.name("subjects.line", f.get("line"), "line"),
        "projects": n.many("subjects.project", f.get("projects"), "project"),
        "description": f.get("description") or "",
        "json": f.get("json"),
        "source": n.name("subjects.source", f.get("source"), "source"),
        "litter": n.name("subjects.litter", f.get("litter"), "litter"),
        "request": str(f["request"]) if f.get("request") else None,
        "ear_mark": f.get("ear_mark") or "",
        "cage": f.get("cage") or None,
        "wean_date": _date(f.get("wean_date")),
        "genotype_date": _date(f.get("genotype_date")),
        "to_be_genotyped": bool(f.get("to_be_genotyped")),
        "to_be_culled": bool(f.get("to_be_culled")),
        "reduced_date": _date(f.get("reduced_date")),
        "actual_severity": int(severity) if severity is not None else None,
        "protocol_number": str(f.get("protocol_number") or "1"),
        "adverse_effects": f.get("adverse_effects") or "",
    }


def _zygosity_rule(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "id": pk,
        "lab": n.line_lab(f.get("line")),
        "line": n.name("subjects.line", f.get("line"), "line", required=True),
        "allele": n.name("subjects.allele", f.get("allele"), "allele", required=True),
        "sequence0": n.name("subjects.sequence", f.get("sequence0"), "sequence0"),
        "sequence0_result": f.get("sequence0_result"),
        "sequence1": n.name("subjects.sequence", f.get("sequence1"), "sequence1"),
        "sequence1_result": f.get("sequence1_result"),
        "zygosity": f["zygosity"],
    }


def _zygosity(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    allele = n.name("subjects.allele", f.get("allele"), "allele", required=True)
    return {
        "id": pk,
        **n.subject(f["subject"]),
        "allele": allele,
        "zygosity": f["zygosity"],
        "json": f.get("json"),
    }


def _genotype_test(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    sequence = n.name("subjects.sequence", f.get("sequence"), "sequence", required=True)
    return {
        "id": pk,
        **n.subject(f["subject"]),
        "sequence": sequence,
        "test_result": f["test_result"],
        "json": f.get("json"),
    }


def _weighing(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "id": pk,
        **n.subject(f["subject"]),
        "date_time": _moment(f["date_time"]),
        "weight": float(f["weight"]),
        "user": n.name("misc.labmember", f.get("user"), "user"),
    }


def _water_administration(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "id": pk,
        **n.subject(f["subject"]),
        "date_time": _moment(f["date_time"]),
        "water_administered": float(f.get("water_administered") or 0),
        "water_type": n.name("actions.watertype", f.get("water_type"), "water type") or "Water",
        "session": str(f["session"]) if f.get("session") else None,
        "adlib": bool(f.get("adlib")),
        "user": n.name("misc.labmember", f.get("user"), "user"),
    }


def _water_restriction(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "id": pk,
        **n.subject(f["subject"]),
        "start_time": _moment(f.get("start_time")) or _raise("no start time"),
        "end_time": _moment(f.get("end_time")),
        "reference_weight": float(f.get("reference_weight") or 0),
        "water_type": n.name("actions.watertype", f.get("water_type"), "water type") or "Water",
    }


OUTCOMES = {"a": "Acute", "r": "Recovery", "n": "Non-recovery", "": None}


def _surgery(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "id": pk,
        **n.subject(f["subject"]),
        "start_time": _moment(f.get("start_time")) or _raise("no start time"),
        "end_time": _moment(f.get("end_time")),
        "procedures": n.many("actions.proceduretype", f.get("procedures"), "procedure"),
        "users": n.many("misc.labmember", f.get("users"), "user"),
        "implant_weight": f.get("implant_weight"),
        "outcome_type": OUTCOMES.get(f.get("outcome_type") or "", f.get("outcome_type")),
        "narrative": f.get("narrative") or "",
        "location": n.name("misc.lablocation", f.get("location"), "location"),
        "json": f.get("json"),
    }


def _session(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    subject = n.subject(f["subject"]) if f.get("subject") else _raise("no subject")
    start = _moment(f.get("start_time")) or _raise("no start time")
    return {
        "id": pk,
        **subject,
        "subject_key": subject["subject"].lower(),
        "number": f.get("number"),  # numbered by start time within the day when Alyx has none
        "start_time": start,
        "end_time": _moment(f.get("end_time")),
        "users": n.many("misc.labmember", f.get("users"), "user"),
        "projects": n.many("subjects.project", f.get("projects"), "project"),
        "task_protocol": f.get("task_protocol") or "",
        "type": f.get("type") or "Experiment",
        "procedures": n.many("actions.proceduretype", f.get("procedures"), "procedure"),
        "narrative": f.get("narrative") or "",
        "n_trials": f.get("n_trials"),
        "n_correct_trials": f.get("n_correct_trials"),
        "qc": f.get("qc") or 0,
        "extended_qc": f.get("extended_qc"),
        "json": f.get("json"),
        "parent_session": str(f["parent_session"]) if f.get("parent_session") else None,
        "location": n.name("misc.lablocation", f.get("location"), "location"),
    }


def _cull(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "id": pk,
        **n.subject(f["subject"]),
        "date": _date(f.get("date")) or _raise("no date"),
        "cull_reason": n.name("actions.cullreason", f.get("cull_reason"), "cull reason"),
        "cull_method": n.name("actions.cullmethod", f.get("cull_method"), "cull method"),
        "user": n.name("misc.labmember", f.get("user"), "user"),
        "description": f.get("description") or "",
        "json": f.get("json"),
    }


# Alyx's content types of the records onecloud attaches notes to (app_label.model).
NOTE_TARGETS = {"subjects.subject": "subject", "actions.session": "session"}


def _content_type(value: Any, object_id: str, n: _Names) -> str:
    """The model a note is about: a natural key (``["subjects", "subject"]``, ``dumpdata
    --natural-foreign``), a content type id the dump's ``contenttypes.contenttype`` records name, or,
    when the dump does not name it, the model of the record whose uuid the note carries."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return ".".join(str(part) for part in value).lower()
    if isinstance(value, str) and value:
        named = value.lower()  # Alyx's REST API names it by its model alone
        return named if "." in named else {v: k for k, v in NOTE_TARGETS.items()}.get(named, named)
    if str(value) in n.content_types:
        return n.content_types[str(value)]
    if object_id in n.subjects:
        return "subjects.subject"
    if object_id in n.sessions:
        return "actions.session"
    raise _Unexpressible(f"its record {object_id} is not a subject or session of the dump")


def _note(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    object_id = str(f.get("object_id") or _raise("no object_id"))
    model = _content_type(f.get("content_type"), object_id, n)
    if model not in NOTE_TARGETS:
        raise _Unexpressible(f"a note on a record of {model}: onecloud keeps notes on subjects and sessions")
    lab = n.subject(object_id)["lab"] if model == "subjects.subject" else n.session_lab(object_id)
    return {
        "id": pk,
        "user": n.name("misc.labmember", f.get("user"), "user"),
        "date_time": _moment(f.get("date_time")) or _raise("no date"),
        "text": f.get("text") or "",
        "content_type": NOTE_TARGETS[model],
        "object_id": object_id,
        "lab": lab,
        "image": None,
        "json": f.get("json"),
        IMAGE_SOURCE: f.get("image") or None,  # the importer fetches it from the source, if it can
    }


def _data_format(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "name": f["name"],
        "id": pk,
        "file_extension": f.get("file_extension") or "",
        "description": f.get("description") or "",
        "matlab_loader_function": f.get("matlab_loader_function") or "",
        "python_loader_function": f.get("python_loader_function") or "",
    }


def _dataset_type(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    return {
        "name": f["name"],
        "id": pk,
        "description": f.get("description") or "",
        "filename_pattern": (f.get("filename_pattern") or "").lower(),
        "created_by": n.name("misc.labmember", f.get("created_by"), "created by"),
    }


def _repository(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    kind = f.get("repository_type")
    return {
        "name": f["name"],
        "id": pk,
        "repository_type": (n.names["data.datarepositorytype"].get(str(kind)) or "Fileserver")
        if kind
        else "Fileserver",
        "data_url": f.get("data_url") or None,
        "globus_is_personal": bool(f.get("globus_is_personal")),
        "json": f.get("json"),
        "hostname": f.get("hostname") or "",
        "globus_path": f.get("globus_path") or "",
        "globus_endpoint_id": str(f["globus_endpoint_id"]) if f.get("globus_endpoint_id") else None,
        "timezone": f.get("timezone") or "",
    }


def _revision(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    out = {"name": f["name"], "id": pk, "description": f.get("description") or ""}
    if f.get("created_datetime"):
        out["created_datetime"] = _moment(f["created_datetime"])
    return out


def _dataset(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    from chalicelib import alf

    revision = n.name("data.revision", f.get("revision"), "revision") or ""
    try:
        path = alf.DatasetPath(
            alf.parse_filename(f["name"]).without_uuid(), f.get("collection") or "", revision
        )
    except Exception as error:  # noqa: BLE001 - any ALF rule the name breaks is the reason it is skipped
        raise _Unexpressible(f"not an ALF dataset name: {getattr(error, 'detail', error)}") from None
    out = {
        "id": pk,
        "session": str(f["session"]),
        "lab": n.session_lab(f["session"]),
        "relative_path": str(path),
        "name": str(path.filename),
        "collection": path.collection,
        "revision": path.revision,
        "dataset_type": n.name("data.datasettype", f.get("dataset_type"), "dataset type", required=True),
        "data_format": n.name("data.dataformat", f.get("data_format"), "data format") or "unknown",
        "hash": f.get("hash") or None,
        "file_size": f.get("file_size"),
        "version": f.get("version") or None,
        "default_dataset": bool(f.get("default_dataset", True)),
        "qc": int(f.get("qc") or 0),
        "created_by": n.name("misc.labmember", f.get("created_by"), "created by"),
        "json": f.get("json"),
    }
    if f.get("created_datetime"):
        out["created_datetime"] = _moment(f["created_datetime"])
    return out


def _file_record(f: dict[str, Any], pk: str, n: _Names) -> dict[str, Any]:
    dataset = n.datasets.get(str(f.get("dataset")))
    if dataset is None:
        raise _Unexpressible(f"dataset {f.get('dataset')} is not in the dump")
    return {
        "id": pk,
        "dataset": str(f["dataset"]),
        "session": str(dataset["session"]),
        "lab": n.session_lab(dataset["session"]),
        "data_repository": n.name(
            "data.datarepository", f.get("data_repository"), "repository", required=True
        ),
        "relative_path": f.get("relative_path") or _raise("no relative path"),
        "exists": bool(f.get("exists")),
        "json": f.get("json"),
    }


def _raise(reason: str) -> Any:
    raise _Unexpressible(reason)


TRANSLATORS: dict[str, Callable[[dict[str, Any], str, _Names], dict[str, Any]]] = {
    "misc.lab": _lab,
    "misc.labmember": _user,
    "misc.lablocation": _location,
    "subjects.project": _project,
    "subjects.species": _species,
    "subjects.strain": lambda f, pk, n: _named(f, pk, n),
    "subjects.source": lambda f, pk, n: _named(f, pk, n),
    "subjects.sequence": lambda f, pk, n: _named(f, pk, n, base_pairs=f.get("base_pairs") or ""),
    "subjects.allele": _allele,
    "actions.proceduretype": _vocabulary,
    "actions.watertype": lambda f, pk, n: {"name": f["name"], "id": pk},
    "actions.cullreason": _vocabulary,
    "actions.cullmethod": _vocabulary,
    "misc.cagetype": _vocabulary,
    "misc.food": _vocabulary,
    "misc.enrichment": _vocabulary,
    "subjects.line": _line,
    "subjects.breedingpair": _breeding_pair,
    "subjects.litter": _litter,
    "subjects.subjectrequest": _request,
    "subjects.subject": _subject,
    "subjects.zygosityrule": _zygosity_rule,
    "subjects.zygosity": _zygosity,
    "subjects.genotypetest": _genotype_test,
    "actions.weighing": _weighing,
    "actions.wateradministration": _water_administration,
    "actions.waterrestriction": _water_restriction,
    "actions.surgery": _surgery,
    "actions.session": _session,
    "actions.cull": _cull,
    "misc.note": _note,
    "data.dataformat": _data_format,
    "data.datasettype": _dataset_type,
    "data.datarepository": _repository,
    "data.revision": _revision,
    "data.dataset": _dataset,
    "data.filerecord": _file_record,
}


def _number_sessions(sessions: list[dict[str, Any]]) -> None:
    """Alyx may leave a session's number empty; onecloud's ALF path needs one: the empty ones of a
    subject's day are numbered after the given ones, by start time (the same every run)."""
    days: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for session in sessions:
        days[(session["subject_id"], session["start_time"][:10])].append(session)
    for day in days.values():
        taken = {int(s["number"]) for s in day if s["number"] is not None}
        free = (n for n in range(1, 1000) if n not in taken)
        for session in sorted(day, key=lambda s: (s["start_time"], s["id"])):
            if session["number"] is None:
                session["number"] = next(free)
            session["date_number"] = f"{session['start_time'][:10]}#{int(session['number']):03d}"


def translate(records: list[dict[str, Any]], known: dict[str, dict[str, str]] | None = None) -> Translation:
    """``known``: key -> name of records referred to but not given (a REST source's unserved kinds)."""
    names = _Names(records, known)
    out = Translation()
    for record in records:
        model, pk = record["model"], str(record["pk"])
        out.read[model] += 1
        translator = TRANSLATORS.get(model)
        if translator is None:
            out.skipped[model].append(Skip(model, pk, f"onecloud has no {model} records"))
            continue
        try:
            out.records[KIND_OF[model]].append(translator(record["fields"], pk, names))
        except (_Unexpressible, KeyError, TypeError, ValueError) as error:
            reason = str(error) if isinstance(error, _Unexpressible) else f"malformed: {error!r}"
            out.skipped[model].append(Skip(model, pk, reason))
    _number_sessions(out.records.get("sessions", []))
    _culled_are_dead(out.records)
    return out


def _culled_are_dead(records: dict[str, list[dict[str, Any]]]) -> None:
    """A culled subject is dead from its cull's date, whatever Alyx's subject row says (as a cull made
    in onecloud would make it; so a second import finds the subject as the first one left it)."""
    culled = {cull["subject_id"]: cull["date"] for cull in records.get("culls", [])}
    for subject in records.get("subjects", []):
        if subject["id"] in culled:
            subject["death_date"] = subject["death_date"] or culled[subject["id"]]
            subject["to_be_culled"] = False
