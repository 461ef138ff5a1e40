"""The colony's pages (colony-web.md 2.12-2.13): lines, breeding pairs, litters and their pups, subject
requests, culls, housing, a subject's genotype and cull, and every record's history.

Lists and writes go through the REST engine with ``web.ctx`` (``rest.list_items``, ``create_item``...), so
the colony's rules (pups inheriting from their litter, a cull ending the open restrictions, zygosities
derived from genotype tests) and the permission check run once, for the API and the pages alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Response

from chalicelib import rest
from chalicelib.colony.genetics import symbol
from chalicelib.errors import BadRequest, NotFound, OnecloudError
from chalicelib.models import Allele, CullMethod, CullReason, GenotypeTest, Line, Subject, Zygosity
from chalicelib.subjects import find_subject
from chalicelib.web.pages import Web, field_errors, nav, page, redirect, render
from chalicelib.web.views.common import labs_shown

nav("Colony", "/colony", order=40)


@dataclass(frozen=True)
class Kind:
    """A colony list page: its resource, title, and the columns its table shows (field, heading)."""

    resource: str
    title: str
    columns: tuple[tuple[str, str], ...]
    form: tuple[tuple[str, str, str], ...] = ()  # (field, label, input type) of the add form
    filter: tuple[str, tuple[str, ...]] | None = None  # (query parameter, its choices; first = default)


KINDS: dict[str, Kind] = {
    k.resource: k
    for k in (
        Kind(
            "lines",
            "Lines",
            (
                ("name", "Name"),
                ("long_name", "Long name"),
                ("strain", "Strain"),
                ("alleles", "Alleles"),
                ("is_active", "Active"),
                ("lab", "Lab"),
            ),
            (
                ("name", "Name", "text"),
                ("long_name", "Long name", "text"),
                ("strain", "Strain", "text"),
                ("alleles", "Alleles (comma separated)", "list"),
            ),
            ("is_active", ("true", "false", "all")),
        ),
        Kind(
            "breeding-pairs",
            "Breeding pairs",
            (
                ("name", "Name"),
                ("line", "Line"),
                ("father", "Father"),
                ("mother1", "Mother 1"),
                ("mother2", "Mother 2"),
                ("start_date", "Start"),
                ("end_date", "End"),
                ("lab", "Lab"),
            ),
            (
                ("name", "Name", "text"),
                ("line", "Line", "text"),
                ("father", "Father", "text"),
                ("mother1", "Mother 1", "text"),
                ("mother2", "Mother 2", "text"),
                ("start_date", "Start date", "date"),
                ("cage", "Cage (houses the parents)", "text"),
            ),
            ("status", ("current", "past", "all")),
        ),
        Kind(
            "litters",
            "Litters",
            (
                ("name", "Name"),
                ("line", "Line"),
                ("breeding_pair", "Breeding pair"),
                ("birth_date", "Birth date"),
                ("pups", "Pups"),
                ("lab", "Lab"),
            ),
            (
                ("name", "Name", "text"),
                ("breeding_pair", "Breeding pair", "text"),
                ("line", "Line", "text"),
                ("birth_date", "Birth date", "date"),
                ("pups", "Pups to create (nicknames, comma separated)", "list"),
            ),
        ),
        Kind(
            "genotype-tests",
            "Genotype tests",
            (("subject", "Subject"), ("sequence", "Sequence"), ("test_result", "Result")),
            (
                ("subject", "Subject", "text"),
                ("sequence", "Sequence", "text"),
                ("test_result", "Result (1 present, 0 absent)", "number"),
            ),
        ),
        Kind(
            "zygosities",
            "Zygosities",
            (("subject", "Subject"), ("allele", "Allele"), ("symbol", "Zygosity")),
            (
                ("subject", "Subject", "text"),
                ("allele", "Allele", "text"),
                ("zygosity", "Zygosity (0 -/-, 1 +/-, 2 +/+, 3 +)", "number"),
            ),
        ),
        Kind(
            "subject-requests",
            "Subject requests",
            (
                ("line", "Line"),
                ("user", "User"),
                ("count", "Count"),
                ("count_assigned", "Assigned"),
                ("remaining", "Remaining"),
                ("due_date", "Due"),
                ("description", "Description"),
                ("lab", "Lab"),
            ),
            (
                ("line", "Line", "text"),
                ("count", "Count", "number"),
                ("due_date", "Due date", "date"),
                ("description", "Description", "text"),
            ),
        ),
        Kind(
            "culls",
            "Culls",
            (
                ("subject", "Subject"),
                ("date", "Date"),
                ("cull_reason", "Reason"),
                ("cull_method", "Method"),
                ("user", "User"),
                ("description", "Description"),
            ),
        ),
        Kind(
            "housings",
            "Housing",
            (
                ("cage_name", "Cage"),
                ("subjects", "Cage mates"),
                ("cage_type", "Cage type"),
                ("food", "Food"),
                ("enrichment", "Enrichment"),
                ("light_cycle", "Light cycle"),
                ("start_datetime", "Since"),
                ("end_datetime", "Until"),
                ("lab", "Lab"),
            ),
            (
                ("cage_name", "Cage", "text"),
                ("subjects", "Cage mates (nicknames, comma separated)", "list"),
                ("cage_type", "Cage type", "text"),
                ("food", "Food", "text"),
                ("enrichment", "Enrichment", "text"),
            ),
            ("active", ("true", "false")),
        ),
    )
}
KEYS = {"lines": "name", "breeding-pairs": "name", "litters": "name"}  # the rest are keyed by id


def _lab_filters(web: Web) -> list[dict[str, str]]:
    """One list call per lab of the user's own; one call in all for a user shown every lab."""
    return [{"lab": lab} for lab in labs_shown(web)] if web.user.labs else [{}]


def listed(web: Web, resource: str, **query: str) -> list[dict[str, Any]]:
    """Every record of ``resource`` in the labs the page shows, as the REST API serves them."""
    found: list[dict[str, Any]] = []
    for lab in _lab_filters(web):
        offset = 0
        while True:
            params = {**query, **lab, "limit": str(rest.MAX_LIMIT), "offset": str(offset)}
            answer = rest.list_items(rest.REGISTRY[resource], params, web.ctx, f"/{resource}")
            found += answer["results"]
            offset += rest.MAX_LIMIT
            if not answer["next"]:
                break
    return found


def key_of(resource: str, record: dict[str, Any]) -> str:
    return str(record[KEYS.get(resource, "id")])


def _payload(kind: Kind, web: Web) -> dict[str, Any]:
    """The add form as a REST body: empty fields left out, lists split on commas, the lab the user's only
    one unless chosen."""
    writable = [lab for lab in labs_shown(web) if web.can_write(lab)]
    lab = web.value("lab") or (writable[0] if len(writable) == 1 else "")
    takes_lab = any(f.name == "lab" for f in rest.REGISTRY[kind.resource].fields)
    body: dict[str, Any] = {"lab": lab} if lab and takes_lab else {}
    for name, _, kind_of_input in kind.form:
        value = web.value(name)
        if not value:
            continue
        body[name] = [v.strip() for v in value.split(",") if v.strip()] if kind_of_input == "list" else value
    return body


def counted(web: Web, resource: str, **query: str) -> int:
    """How many records of ``resource`` the labs the page shows have (only one is serialized)."""
    return sum(
        rest.list_items(
            rest.REGISTRY[resource], {**query, "lab": lab, "limit": "1"}, web.ctx, f"/{resource}"
        )["count"]
        for lab in labs_shown(web)
    )


@page("/colony")
def colony_home(web: Web) -> Response:
    """What a colony manager looks after, with how many of each the user's labs have."""
    counts = {
        name: counted(web, name, **({kind.filter[0]: kind.filter[1][0]} if kind.filter else {}))
        for name, kind in KINDS.items()
    }
    return render(web, "colony.html", title="Colony", kinds=KINDS, counts=counts)


def _list_page(resource: str) -> Callable[[Web], Response]:
    kind = KINDS[resource]

    def view(web: Web) -> Response:
        errors: dict[str, str] = {}
        values: dict[str, str] = {}
        status = 200
        if web.request.method == "POST" and kind.form:
            values = {name: web.value(name) for name, _, _ in kind.form}
            try:
                created = rest.create_item(rest.REGISTRY[resource], _payload(kind, web), web.ctx)
            except OnecloudError as error:
                errors, status = field_errors(error, tuple(name for name, _, _ in kind.form)), error.status
            else:
                return redirect(web, f"/{resource}", saved=key_of(resource, created))
        query: dict[str, str] = {}
        shown = ""
        if kind.filter:
            name, choices = kind.filter
            shown = web.query.get(name, choices[0])
            shown = shown if shown in choices else choices[0]
            if shown != "all":
                query[name] = shown
        records = listed(web, resource, **query)
        return render(
            web,
            "colony_list.html",
            status=status,
            title=kind.title,
            kind=kind,
            records=records,
            key_of=lambda record: key_of(resource, record),
            shown=shown,
            errors=errors,
            values=values,
            saved=web.query.get("saved"),
            writable_labs=[lab for lab in labs_shown(web) if web.can_write(lab)] if kind.form else [],
        )

    view.__name__ = f"colony_{resource.replace('-', '_')}"
    return view


for _resource, _kind in KINDS.items():
    page(f"/{_resource}", ("GET", "POST") if _kind.form else ("GET",))(_list_page(_resource))


@page("/colony/{resource}/{key}")
def record_page(web: Web, resource: str, key: str) -> Response:
    """One colony record: its fields and a link to its history (litters have their own page)."""
    if resource not in KINDS:
        raise NotFound(f"no colony records called {resource!r}")
    if resource == "litters":
        return redirect(web, f"/litters/{key}")
    record = rest.read_item(rest.REGISTRY[resource], key, web.ctx)
    return render(
        web,
        "colony_record.html",
        title=f"{KINDS[resource].title}: {key}",
        kind=KINDS[resource],
        record=record,
        key=key,
    )


def genotype_of(subjects: list[Subject]) -> dict[str, list[str]]:
    """Each subject's zygosities as Alyx shows them (``Ai95 +/-``), one query per subject."""
    return {
        s.id: sorted(f"{z.allele} {symbol(z.zygosity)}" for z in Zygosity.by_subject.query(s.id))
        for s in subjects
    }


GENOTYPED = 3  # as Alyx's litter page: result columns for the line's first three sequences


def line_sequences(line: str | None) -> list[str]:
    """The sequences a line's pups are tested for: those of its alleles, in order, the first three."""
    if not line:
        return []
    try:
        alleles = Line.get(line).alleles
    except Line.DoesNotExist:
        return []
    found = [seq for allele in Allele.batch_get(alleles) for seq in allele.sequences] if alleles else []
    return list(dict.fromkeys(found))[:GENOTYPED]


def _add_pups(web: Web, name: str) -> int:
    pups = [
        {"nickname": nickname, "sex": web.value("sex") or "U"}
        for nickname in (n.strip() for n in web.value("pups").split(","))
        if nickname
    ]
    if not pups:
        raise BadRequest("pups: name at least one pup")
    rest.update_item(rest.REGISTRY["litters"], name, {"pups": pups}, web.ctx, partial=True)
    return len(pups)


def _save_genotypes(web: Web, pups: list[Subject], sequences: list[str]) -> int:
    """The result typed for each pup and sequence: a new test, a changed one, or one removed (blank);
    each through the REST engine, so the zygosities are derived again."""
    tests = rest.REGISTRY["genotype-tests"]
    changed = 0
    for pup in pups:
        existing = {t.sequence: t for t in GenotypeTest.by_subject.query(pup.id)}
        for sequence in sequences:
            typed, test = web.value(f"result:{pup.nickname}:{sequence}"), existing.get(sequence)
            if typed == ("" if test is None else str(int(test.test_result))):
                continue
            if test is None:
                body = {"subject": pup.id, "sequence": sequence, "test_result": int(typed)}
                rest.create_item(tests, body, web.ctx)
            elif typed:
                rest.update_item(tests, test.id, {"test_result": int(typed)}, web.ctx, partial=True)
            else:
                rest.delete_item(tests, test.id, web.ctx)
            changed += 1
    return changed


@page("/litters/{name}", ("GET", "POST"))
def litter_page(web: Web, name: str) -> Response:
    """A litter with its pups, their genotype results for the line's sequences and zygosities. Its forms
    name new pups (``PATCH /litters/<name>`` with ``pups``, as the API) and type genotype results
    (``/genotype-tests``)."""
    litter = rest.read_item(rest.REGISTRY["litters"], name, web.ctx)
    sequences = line_sequences(litter["line"])
    errors: dict[str, str] = {}
    status = 200
    if web.request.method == "POST":
        pups = sorted(Subject.by_litter.query(name), key=lambda s: s.nickname)
        try:
            if web.value("action") == "genotype":
                return redirect(web, f"/litters/{name}", genotyped=_save_genotypes(web, pups, sequences))
            born = _add_pups(web, name)
        except OnecloudError as error:
            errors, status = field_errors(error, ("pups",)), error.status
        else:
            return redirect(web, f"/litters/{name}", born=born)
    pups = sorted(Subject.by_litter.query(name), key=lambda s: s.nickname)
    results = {
        pup.id: {t.sequence: int(t.test_result) for t in GenotypeTest.by_subject.query(pup.id)}
        for pup in pups
    }
    return render(
        web,
        "litter.html",
        status=status,
        title=f"Litter {name}",
        litter=litter,
        pups=pups,
        sequences=sequences,
        results=results,
        genotypes=genotype_of(pups),
        errors=errors,
        born=web.query.get("born"),
        genotyped=web.query.get("genotyped"),
        can_write=web.can_write(litter["lab"]),
    )


@page("/adverse-effects")
def adverse_effects(web: Web) -> Response:
    """Alyx's adverse effects view: the labs' subjects with adverse effects or an actual severity
    recorded, with how they ended (for the yearly return to the licensing authority)."""
    everyone = (
        [Subject.scan()] if not web.user.labs else [Subject.by_lab.query(lab) for lab in labs_shown(web)]
    )
    subjects = [s for found in everyone for s in found if s.adverse_effects or s.actual_severity is not None]
    subjects.sort(key=lambda s: (s.death_date or "9999", s.nickname))
    culled = {c["subject"]: c for c in listed(web, "culls")}
    return render(web, "adverse_effects.html", title="Adverse effects", subjects=subjects, culled=culled)


EDITABLE = (
    ("ear_mark", "Ear mark", "text"),
    ("cage", "Cage", "text"),
    ("wean_date", "Wean date", "date"),
    ("genotype_date", "Genotype date", "date"),
    ("protocol_number", "Protocol number", "text"),
    ("actual_severity", "Actual severity (1-5)", "number"),
    ("adverse_effects", "Adverse effects", "text"),
)
FLAGS = (("to_be_genotyped", "To be genotyped"), ("to_be_culled", "To be culled"))


def subject_colony(subject: Subject) -> dict[str, Any]:
    """What the subject page shows of the colony: genotype tests, zygosities, the cull, the vocabularies
    its cull form offers, and the version its edit form is based on (a stale edit is refused)."""
    culls = rest.REGISTRY["culls"].model.by_subject.query(subject.id)
    return {
        "version": rest.version_of(rest.REGISTRY["subjects"], subject.id),
        "editable": EDITABLE,
        "flags": FLAGS,
        "genotype_tests": sorted(GenotypeTest.by_subject.query(subject.id), key=lambda t: t.sequence),
        "zygosities": sorted(
            ((z.allele, symbol(z.zygosity)) for z in Zygosity.by_subject.query(subject.id)),
            key=lambda z: z[0],
        ),
        "cull": next(iter(culls), None),
        "cull_reasons": sorted(r.name for r in CullReason.scan(attributes_to_get=["name"])),
        "cull_methods": sorted(m.name for m in CullMethod.scan(attributes_to_get=["name"])),
    }


@page("/subjects/{nickname}/cull", ("POST",))
def cull_subject(web: Web, nickname: str) -> Response:
    """Cull a subject from its page: ``POST /culls`` (sets the death date, ends the open restrictions)."""
    subject = find_subject(nickname, web.query.get("lab") or None)
    body = {
        "subject": subject.nickname,
        "date": web.value("date") or datetime.date.today().isoformat(),
        "cull_reason": web.value("cull_reason") or None,
        "cull_method": web.value("cull_method") or None,
        "description": web.value("description"),
    }
    rest.create_item(rest.REGISTRY["culls"], {k: v for k, v in body.items() if v is not None}, web.ctx)
    return redirect(web, f"/subjects/{subject.nickname}", lab=subject.lab, culled=body["date"])


@page("/subjects/{nickname}/colony", ("POST",))
def edit_subject_colony(web: Web, nickname: str) -> Response:
    """Change a subject's colony fields: ``PATCH /subjects/<id>`` based on the version the form was read
    at, so a change someone made meanwhile is refused with what it was (409), not overwritten."""
    subject = find_subject(nickname, web.query.get("lab") or None)
    body: dict[str, Any] = {name: web.value(name) or None for name, _, _ in EDITABLE}
    body.update({name: web.value(name) == "on" for name, _ in FLAGS})
    body["protocol_number"] = body["protocol_number"] or "1"
    body["ear_mark"], body["adverse_effects"] = body["ear_mark"] or "", body["adverse_effects"] or ""
    based_on = int(web.value("version")) if web.value("version").isdigit() else None
    rest.update_item(rest.REGISTRY["subjects"], subject.id, body, web.ctx, partial=True, based_on=based_on)
    return redirect(web, f"/subjects/{subject.nickname}", lab=subject.lab, edited="1")


@page("/history/{resource}/{key}")
def history_page(web: Web, resource: str, key: str) -> Response:
    """Who changed what and when (``GET /<resource>/<key>/history``): fields with old -> new values."""
    if resource not in rest.REGISTRY:
        raise NotFound(f"no records called {resource!r}")
    scope = {"lab": web.query["lab"]} if web.query.get("lab") else None
    trail = rest.item_history(rest.REGISTRY[resource], key, web.ctx, scope)
    pages = {"subjects": "/subjects/", "sessions": "/sessions/", "litters": "/litters/"}
    back = (
        web.url(pages[resource] + key, lab=web.query.get("lab"))
        if resource in pages
        else web.url(f"/colony/{resource}/{key}")
        if resource in KINDS
        else None
    )
    return render(
        web,
        "history.html",
        title=f"History of {rest.REGISTRY[resource].singular} {key}",
        entries=trail["results"],
        back=back,
    )


@page("/lines/{name}/active", ("POST",))
def line_active(web: Web, name: str) -> Response:
    """Make a line active or not from the list (``PATCH /lines/<name>``): only active lines are offered
    for new subjects."""
    active = web.value("is_active") == "true"
    rest.update_item(rest.REGISTRY["lines"], name, {"is_active": active}, web.ctx, partial=True)
    return redirect(web, "/lines", saved=name, is_active="true" if active else "false")
