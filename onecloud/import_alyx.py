"""``onecloud import-alyx SOURCE``: a lab's Alyx records into a running onecloud, over its API.

The dump is translated here (``chalicelib.alyx.translate``) and sent kind by kind, in dependency order,
in batches the API upserts (``POST /alyx-import``). The report says, per kind, how many records were
read, created, updated, unchanged and skipped, and lists every skipped record with its reason.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from chalicelib.alyx.translate import KIND_OF, ORDER, load_dump, translate
from onecloud.client import Api

BATCH = 100


@dataclass
class KindReport:
    kind: str
    read: int = 0
    counts: Counter = field(default_factory=Counter)
    skipped: list[dict[str, str]] = field(default_factory=list)


def import_dump(api: Api, source: Path) -> list[KindReport]:
    translation = translate(load_dump(source))
    reports: dict[str, KindReport] = {}
    for model, kind in ORDER:
        report = reports.setdefault(kind, KindReport(kind))
        report.read += translation.read.get(model, 0)
        report.skipped += [{"id": s.pk, "reason": s.reason} for s in translation.skipped.get(model, [])]
    for model in sorted(set(translation.read) - set(KIND_OF)):
        report = reports.setdefault(model, KindReport(model, read=translation.read[model]))
        report.skipped += [{"id": s.pk, "reason": s.reason} for s in translation.skipped.get(model, [])]
    total = sum(len(records) for records in translation.records.values())
    with tqdm(total=total, unit="record", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        for _, kind in ORDER:
            records = translation.records.get(kind, [])
            bar.set_description(kind)
            for start in range(0, len(records), BATCH):
                batch = records[start : start + BATCH]
                answer: dict[str, Any] = api.post("/alyx-import", {"kind": kind, "records": batch})
                for outcome in ("created", "updated", "unchanged"):
                    reports[kind].counts[outcome] += answer.get(outcome, 0)
                reports[kind].skipped += answer.get("skipped", [])
                bar.update(len(batch))
    return [r for r in reports.values() if r.read]


def summary(reports: list[KindReport]) -> str:
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
    return "\n".join(lines)
