"""A running Alyx's REST answers -> the ``dumpdata`` records ``translate`` reads, so a lab moved over the
REST API gets the same mapping, the same report and the same uuids as one moved from a dump.

Alyx's REST API names related records (a subject's lab by name, a weighing's subject by nickname); a dump
names them by uuid. Each name is turned back into the uuid of the record the source served under that
name. A name of a kind the source does not serve (Alyx has no ``/lines`` endpoint) stays a name, which the
target resolves or refuses with the reason. A subject that cannot be found skips the records about it,
with the reason, as a dump's dangling reference does.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from typing import Any

from chalicelib.qc import QC

# Alyx model, the endpoints that serve it (first found wins), and the field that names it in the API.
ENDPOINTS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("misc.lab", ("labs",), "name"),
    ("misc.labmember", ("users",), "username"),
    ("subjects.project", ("projects",), "name"),
    ("subjects.species", ("species",), "name"),
    ("subjects.strain", ("strains",), "name"),
    ("subjects.source", ("sources",), "name"),
    ("subjects.sequence", ("sequences",), "name"),
    ("subjects.allele", ("alleles",), "name"),
    ("actions.proceduretype", ("procedures",), "name"),
    ("actions.watertype", ("water-type",), "name"),
    ("actions.cullreason", ("cull-reasons",), "name"),
    ("actions.cullmethod", ("cull-methods",), "name"),
    ("misc.cagetype", ("cage-types",), "name"),
    ("misc.food", ("foods",), "name"),
    ("misc.enrichment", ("enrichments",), "name"),
    ("data.dataformat", ("data-formats",), "name"),
    ("data.datasettype", ("dataset-types",), "name"),
    ("data.datarepository", ("data-repository",), "name"),
    ("data.revision", ("revisions",), "name"),
    ("subjects.line", ("lines",), "name"),
    ("subjects.breedingpair", ("breeding-pairs",), "name"),
    ("subjects.litter", ("litters",), "name"),
    ("subjects.subjectrequest", ("subject-requests",), None),
    ("subjects.subject", ("subjects",), "nickname"),
    ("subjects.zygosityrule", ("zygosity-rules",), None),
    ("subjects.zygosity", ("zygosities",), None),
    ("subjects.genotypetest", ("genotype-tests",), None),
    ("actions.weighing", ("weighings",), None),
    ("actions.wateradministration", ("water-administrations",), None),
    ("actions.waterrestriction", ("water-restrictions", "water-restriction"), None),
    ("actions.surgery", ("surgeries",), None),
    ("actions.session", ("sessions",), None),
    ("data.dataset", ("datasets",), None),  # file records come inside each dataset
    ("actions.cull", ("culls",), None),
    ("misc.note", ("notes",), None),
)
SUBJECT = "subjects.subject"
# Related fields of each model: field -> the model it names.
REFERENCES: dict[str, dict[str, str]] = {
    "misc.lab": {"food": "misc.food", "cage_type": "misc.cagetype", "enrichment": "misc.enrichment"},
    "subjects.project": {"users": "misc.labmember"},
    "subjects.allele": {"sequences": "subjects.sequence"},
    "subjects.line": {
        "lab": "misc.lab",
        "species": "subjects.species",
        "strain": "subjects.strain",
        "source": "subjects.source",
        "alleles": "subjects.allele",
    },
    "subjects.breedingpair": {
        "line": "subjects.line",
        "father": SUBJECT,
        "mother1": SUBJECT,
        "mother2": SUBJECT,
    },
    "subjects.litter": {"line": "subjects.line", "breeding_pair": "subjects.breedingpair"},
    "subjects.subjectrequest": {"user": "misc.labmember", "line": "subjects.line"},
    "subjects.subject": {
        "lab": "misc.lab",
        "responsible_user": "misc.labmember",
        "species": "subjects.species",
        "strain": "subjects.strain",
        "source": "subjects.source",
        "line": "subjects.line",
        "litter": "subjects.litter",
        "projects": "subjects.project",
    },
    "subjects.zygosityrule": {
        "line": "subjects.line",
        "allele": "subjects.allele",
        "sequence0": "subjects.sequence",
        "sequence1": "subjects.sequence",
    },
    "subjects.zygosity": {"subject": SUBJECT, "allele": "subjects.allele"},
    "subjects.genotypetest": {"subject": SUBJECT, "sequence": "subjects.sequence"},
    "actions.weighing": {"subject": SUBJECT, "user": "misc.labmember"},
    "actions.wateradministration": {
        "subject": SUBJECT,
        "user": "misc.labmember",
        "water_type": "actions.watertype",
    },
    "actions.waterrestriction": {"subject": SUBJECT, "water_type": "actions.watertype"},
    "actions.surgery": {
        "subject": SUBJECT,
        "users": "misc.labmember",
        "procedures": "actions.proceduretype",
        "location": "misc.lablocation",
    },
    "actions.session": {
        "subject": SUBJECT,
        "users": "misc.labmember",
        "projects": "subjects.project",
        "procedures": "actions.proceduretype",
        "location": "misc.lablocation",
    },
    "data.datasettype": {"created_by": "misc.labmember"},
    "data.datarepository": {"repository_type": "data.datarepositorytype"},
    "data.dataset": {
        "revision": "data.revision",
        "dataset_type": "data.datasettype",
        "data_format": "data.dataformat",
        "created_by": "misc.labmember",
    },
    "misc.note": {"user": "misc.labmember"},
    "actions.cull": {
        "subject": SUBJECT,
        "user": "misc.labmember",
        "cull_reason": "actions.cullreason",
        "cull_method": "actions.cullmethod",
    },
}
# The API's field name -> the model's, where they differ (onecloud names species and alleles by Alyx's
# nickname and calls their Alyx name latin_name / long_name; a line's nickname is its long_name).
RENAMED: dict[str, dict[str, str]] = {
    "subjects.species": {"name": "nickname", "latin_name": "name"},
    "subjects.allele": {"name": "nickname", "long_name": "name"},
    "subjects.line": {"long_name": "nickname"},
}
MADE_UP = "rest:"  # the prefix of a key made here for a name the source did not serve
# What identifies a record the source served without an id or url, so each run gives it the same uuid.
IDENTITY = (
    "name",
    "username",
    "nickname",
    "subject",
    "date_time",
    "start_time",
    "sequence",
    "allele",
    "date",
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def record_id(model: str, record: dict[str, Any]) -> str:
    """The record's uuid: its ``id``, else the end of its ``url`` (Alyx's lists give one or the other),
    else one derived from what identifies it (the same every run, so a second import changes nothing)."""
    if record.get("id"):
        return str(record["id"])
    found = UUID.search(str(record.get("url") or "").rstrip("/"))
    if found:
        return found.group(0)
    identity = {name: record.get(name) for name in IDENTITY if record.get(name) is not None} or record
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{model}:{json.dumps(identity, sort_keys=True, default=str)}"))


class _Keys:
    """name -> uuid of every named record the source served; subjects by (nickname, lab) and nickname."""

    def __init__(self, served: dict[str, list[dict[str, Any]]]) -> None:
        self.by_name: dict[str, dict[str, str]] = defaultdict(dict)
        self.subjects: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        self.unserved: dict[str, dict[str, str]] = defaultdict(dict)
        for model, _, name_field in ENDPOINTS:
            for record in served.get(model, []):
                key = record_id(model, record)
                record["_key"] = key
                if model == SUBJECT:
                    self.subjects[(record["nickname"], record.get("lab"))].append(key)
                    self.subjects[(record["nickname"], None)].append(key)
                elif name_field:
                    self.by_name[model][str(record[name_field])] = key
        self.served = set(served)

    def named(self, model: str, name: Any, lab: str | None) -> Any:
        if name in (None, ""):
            return None
        if model == SUBJECT:
            found = self.subjects.get((name, lab)) or self.subjects.get((name, None)) or []
            return found[0] if len(found) == 1 else f"{MADE_UP}unknown subject {name}"
        key = self.by_name[model].get(str(name))
        if key is None:  # a kind the source does not serve: the target resolves the name itself
            key = f"{MADE_UP}{model}:{name}"
            self.unserved[model][key] = str(name)
        return key


def _uuid_in(value: Any) -> str | None:
    found = UUID.search(str(value or "").rstrip("/"))
    return found.group(0) if found else None


def _file_records(dataset: dict[str, Any], keys: _Keys) -> list[dict[str, Any]]:
    """Alyx serves a dataset's file records inside it (``file_records``): the dump's data.filerecord."""
    out = []
    for record in dataset.get("file_records") or []:
        repository = record.get("data_repository")
        fields = {
            "dataset": dataset["_key"],
            "data_repository": keys.named("data.datarepository", repository, None),
            "relative_path": record.get("relative_path"),
            "exists": record.get("exists"),
        }
        identity = {"data_repository": repository, "relative_path": record.get("relative_path")}
        out.append(
            {
                "model": "data.filerecord",
                "pk": record_id("data.filerecord", {**identity, **record}),
                "fields": fields,
            }
        )
    return out


def to_dump(
    served: dict[str, list[dict[str, Any]]],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The served records (Alyx model -> the API's records) as dumpdata records, and the names of the
    records they refer to that the source did not serve (for ``translate``'s ``known``)."""
    keys = _Keys(served)
    dump = []
    for model, _, _ in ENDPOINTS:
        renamed, references = RENAMED.get(model, {}), REFERENCES.get(model, {})
        for record in served.get(model, []):
            fields = {renamed.get(k, k): v for k, v in record.items() if k not in ("_key", "url", "id")}
            lab = record.get("lab") if isinstance(record.get("lab"), str) else None
            for name, target in references.items():
                value = record.get(name)
                fields[renamed.get(name, name)] = (
                    [keys.named(target, v, lab) for v in value]
                    if isinstance(value, list)
                    else keys.named(target, value, lab)
                )
            if model in ("actions.session", "data.dataset") and isinstance(fields.get("qc"), str):
                fields["qc"] = QC.get(fields["qc"].upper(), fields["qc"])  # the API names it
            if model == "data.dataset":
                fields["session"] = _uuid_in(fields.get("session"))  # a URL in Alyx's answers
                dump += _file_records(record, keys)
            dump.append({"model": model, "pk": record["_key"], "fields": fields})
    return dump, {model: dict(names) for model, names in keys.unserved.items()}
