"""``onecloud import-alyx SOURCE``: a lab's Alyx records into a running onecloud, over its API.

SOURCE is a ``dumpdata`` file, or a running Alyx read over its REST API (``chalicelib.alyx.from_rest``
turns its answers into the same records). Either is translated here (``chalicelib.alyx.translate``) and
sent kind by kind, in dependency order, in batches the API upserts (``POST /alyx-import``). The report
says, per kind, how many records were read, created, updated, unchanged and skipped, and lists every
skipped record with its reason, and the kinds a REST source does not serve.
"""

from __future__ import annotations

import base64
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from chalicelib.alyx.from_rest import ENDPOINTS, to_dump
from chalicelib.alyx.translate import IMAGE_SOURCE, KIND_OF, ORDER, Translation, load_dump, translate
from chalicelib.notes import image_kind
from onecloud.client import Api, ApiError

BATCH = 100
MAX_IMAGE_BYTES = 3 * 2**20  # base64 in a JSON request, under Lambda's 6 MB request limit
PAYLOAD = 4 * 2**20  # of images' base64 in one request


@dataclass
class KindReport:
    kind: str
    read: int = 0
    counts: Counter = field(default_factory=Counter)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notices: list[dict[str, str]] = field(default_factory=list)


def import_dump(api: Api, source: Path) -> list[KindReport]:
    return send(api, translate(load_dump(source)), lambda image: _media_file(Path(source).parent, image))


def _media_file(folder: Path, image: str) -> bytes:
    """A note's image beside a dump: Alyx's media folder (``uploaded/``) copied next to it, or the
    image's path from there (a dump itself holds no files)."""
    for path in (folder / "uploaded" / image, folder / image):
        if path.resolve().is_relative_to(folder.resolve()) and path.is_file():
            return path.read_bytes()
    raise FileNotFoundError(f"not beside the dump (looked in {folder / 'uploaded'})")


def _bar(unit: str) -> tqdm:
    return tqdm(total=0, unit=unit, disable=not sys.stderr.isatty(), file=sys.stderr)


def _not_served(error: ApiError) -> bool:
    """An endpoint the source does not have (API Gateway answers an unknown path with a 403 of its own)."""
    return error.status in (404, 405) or (
        error.status == 403 and "Missing Authentication Token" in str(error)
    )


def read_rest(
    source: Api, *, page: int = 1000, jobs: int = 8
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Every record of every kind the source serves (Alyx model -> records), and the endpoints it lacks.
    Sessions are read one by one when the list gives only a summary (Alyx's and onecloud's do)."""
    served: dict[str, list[dict[str, Any]]] = {}
    missing: list[str] = []
    with _bar("record") as bar:
        for model, endpoints, _ in ENDPOINTS:
            for endpoint in endpoints:
                bar.set_description(f"reading {endpoint}")
                try:
                    served[model] = _all_pages(source, f"/{endpoint}", page, bar)
                    break
                except ApiError as error:
                    if not _not_served(error):
                        raise
            else:
                missing.append("/" + endpoints[0])
        sessions = served.get("actions.session", [])
        summaries = [s for s in sessions if "users" not in s]
        if summaries:
            bar.set_description("reading sessions in full")
            bar.total += len(summaries)
            with ThreadPoolExecutor(jobs) as pool:
                full = {s["id"]: s for s in pool.map(lambda s: _detail(source, s, bar), summaries)}
            served["actions.session"] = [full.get(s.get("id"), s) for s in sessions]
    return served, missing


def _all_pages(source: Api, path: str, page: int, bar: tqdm) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        answer = source.get(path, limit=page, offset=len(found))
        results = answer["results"] if isinstance(answer, dict) else answer  # Alyx may not page a list
        if len(found) == 0:
            bar.total += answer.get("count", len(results)) if isinstance(answer, dict) else len(results)
        found += results
        bar.update(len(results))
        if not isinstance(answer, dict) or not answer.get("next") or not results:
            return found


def _detail(source: Api, summary: dict[str, Any], bar: tqdm) -> dict[str, Any]:
    detail = source.get(f"/sessions/{summary['id']}")
    bar.update(1)
    return detail


def import_rest(api: Api, source: Api) -> tuple[list[KindReport], list[str]]:
    """A running Alyx (or onecloud) read over its REST API into ``api``; also the endpoints it lacks."""
    served, missing = read_rest(source)
    dump, known = to_dump(served)
    return send(api, translate(dump, known), source.download), missing


def send(
    api: Api, translation: Translation, fetch_image: Callable[[str], bytes] | None = None
) -> list[KindReport]:
    reports: dict[str, KindReport] = {}
    for model, kind in ORDER:
        report = reports.setdefault(kind, KindReport(kind))
        report.read += translation.read.get(model, 0)
        report.skipped += [{"id": s.pk, "reason": s.reason} for s in translation.skipped.get(model, [])]
    for model in sorted(set(translation.read) - set(KIND_OF)):
        report = reports.setdefault(model, KindReport(model, read=translation.read[model]))
        report.skipped += [{"id": s.pk, "reason": s.reason} for s in translation.skipped.get(model, [])]
    total = sum(len(records) for records in translation.records.values())
    foreign: set[str] = set()  # repositories here under the same name that are not the source's
    with tqdm(total=total, unit="record", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        for _, kind in ORDER:
            records = translation.records.get(kind, [])
            if kind == "files":
                records = _not_in(records, foreign, reports[kind], bar)
            if kind == "notes":
                records = [_with_image(r, fetch_image, reports[kind]) for r in records]
            bar.set_description(kind)
            for batch in _batches(records):
                answer: dict[str, Any] = api.post("/alyx-import", {"kind": kind, "records": batch})
                for outcome in ("created", "updated", "unchanged"):
                    reports[kind].counts[outcome] += answer.get(outcome, 0)
                reports[kind].skipped += answer.get("skipped", [])
                if kind == "data-repository":
                    names = {r.get("id"): r["name"] for r in batch}
                    foreign |= {names.get(s["id"], s["id"]) for s in answer.get("skipped", [])}
                bar.update(len(batch))
    return [r for r in reports.values() if r.read]


def _batches(records: list[dict[str, Any]]) -> Any:
    """At most BATCH records a request, and images of at most PAYLOAD bytes (base64) with them."""
    batch: list[dict[str, Any]] = []
    size = 0
    for record in records:
        weight = len(record.get("image_data") or "")
        if batch and (len(batch) == BATCH or size + weight > PAYLOAD):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += weight
    if batch:
        yield batch


def _with_image(
    record: dict[str, Any], fetch: Callable[[str], bytes] | None, report: KindReport
) -> dict[str, Any]:
    """A note with its image fetched from the source (sent base64; stored by the target unless its note
    has one already); an image that cannot be fetched is reported and the note's text still goes."""
    record = dict(record)
    source = record.pop(IMAGE_SOURCE, None)
    if not source:
        return record
    try:
        if fetch is None:
            raise ValueError("the source serves no files")
        data = fetch(source)
        if image_kind(data[:16]) is None:
            raise ValueError("not a PNG, JPEG, GIF or WebP image")
        if len(data) > MAX_IMAGE_BYTES:
            raise ValueError(f"{len(data)} bytes, more than the {MAX_IMAGE_BYTES} an import sends")
    except (OSError, ValueError, ApiError) as error:
        report.notices.append(
            {"id": record["id"], "reason": f"image {source} not fetched ({error}); text imported"}
        )
        return record
    record["image_data"] = base64.b64encode(data).decode()
    return record


def _not_in(
    records: list[dict[str, Any]], foreign: set[str], report: KindReport, bar: tqdm
) -> list[dict[str, Any]]:
    """File records of a repository that was not imported would claim files onecloud's one does not
    hold: they are skipped with the reason."""
    kept = [r for r in records if r["data_repository"] not in foreign]
    report.skipped += [
        {"id": r["id"], "reason": f"its repository {r['data_repository']} is not the source's (not imported)"}
        for r in records
        if r["data_repository"] in foreign
    ]
    bar.update(len(records) - len(kept))
    return kept


def summary(reports: list[KindReport], missing: list[str] = ()) -> str:
    rows = [("kind", "read", "created", "updated", "unchanged", "skipped")]
    rows += [
        (r.kind, r.read, r.counts["created"], r.counts["updated"], r.counts["unchanged"], len(r.skipped))
        for r in reports
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            str(v).ljust(w) if i == 0 else str(v).rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    for report in reports:
        reasons = Counter(s["reason"] for s in report.skipped)
        for reason, count in sorted(reasons.items()):
            ids = [s["id"] for s in report.skipped if s["reason"] == reason]
            shown = ", ".join(ids[:5]) + (", ..." if count > 5 else "")
            lines.append(f"skipped {count} {report.kind}: {reason} ({shown})")
        lines += [f"imported in part: {report.kind} {n['id']}: {n['reason']}" for n in report.notices]
    if missing:
        lines.append(f"not read (the source does not serve them): {', '.join(missing)}")
    return "\n".join(lines)
