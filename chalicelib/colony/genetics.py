"""Zygosities, and how Alyx derives them from genotype tests (``ZygosityFinder``).

A zygosity rule of a line says: for this allele, when sequence0 tested result0 (and, if the rule names a
second sequence, sequence1 tested result1), the subject is <zygosity>. Saving a genotype test re-derives
the zygosity of every allele of the subject's line that has rules; the first rule that matches wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chalicelib.models import GenotypeTest, Subject, Zygosity, ZygosityRule
from chalicelib.models.unique import save_unique

ZYGOSITIES = ("Absent", "Heterozygous", "Homozygous", "Present")
SYMBOLS = ("-/-", "+/-", "+/+", "+")
TEST_RESULTS = ("Absent", "Present")


def symbol(zygosity: int) -> str:
    return SYMBOLS[int(zygosity)]


def zygosity_from_rules(rules: Iterable[ZygosityRule], results: Mapping[str, int]) -> int | None:
    """The zygosity the first matching rule gives for ``results`` (sequence -> 0/1), or None."""
    if not results:
        return None
    for rule in rules:
        result0 = results.get(rule.sequence0) if rule.sequence0 else None
        result1 = results.get(rule.sequence1) if rule.sequence1 else None
        pass0 = rule.sequence0_result is not None and result0 == int(rule.sequence0_result)
        pass1 = rule.sequence1_result is not None and result1 == int(rule.sequence1_result)
        if (result1 is None and pass0) or (result1 is not None and pass0 and pass1):
            return int(rule.zygosity)
    return None


def test_results(subject: Subject) -> dict[str, int]:
    return {t.sequence: int(t.test_result) for t in GenotypeTest.by_subject.query(subject.id)}


def derive_zygosities(subject: Subject) -> list[Zygosity]:
    """Apply the line's rules to the subject's tests; returns the zygosities created or changed."""
    if not subject.line:
        return []
    rules = [rule for rule in ZygosityRule.scan(ZygosityRule.line == subject.line)]
    results = test_results(subject)
    existing = {z.allele: z for z in Zygosity.by_subject.query(subject.id)}
    changed = []
    for allele in sorted({rule.allele for rule in rules}):
        found = zygosity_from_rules([r for r in rules if r.allele == allele], results)
        if found is None:
            continue
        current = existing.get(allele)
        if current is None:
            current = Zygosity(
                subject=subject.nickname,
                subject_id=subject.id,
                lab=subject.lab,
                allele=allele,
                zygosity=found,
            )
            save_unique(current, add=current.unique_keys, create=True)
        elif int(current.zygosity) != found:
            current.zygosity = found
            current.save()
        else:
            continue
        changed.append(current)
    return changed


def zygosity_strings(subject: Subject) -> list[str]:
    """As the subjects list shows them: ``Ai95 +/-``."""
    return sorted(f"{z.allele} {symbol(z.zygosity)}" for z in Zygosity.by_subject.query(subject.id))
