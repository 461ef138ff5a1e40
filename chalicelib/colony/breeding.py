"""Breeding: pups born from a litter, a breeding pair's cage, what a subject request still needs.

Pups inherit from their litter what Alyx copies on saving a pup: birth date, line, lab, and from the
breeding pair's father the species, strain, source and responsible user.
"""

from __future__ import annotations

from typing import Any

from chalicelib import alf, history
from chalicelib.colony.subjects import record_changes
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.models import BreedingPair, Litter, Subject, SubjectRequest
from chalicelib.subjects import find_subject, subjects_referenced

PUP_FIELDS = ("nickname", "sex", "ear_mark", "cage", "wean_date", "genotype_date", "description")


def pup_specs(value: Any) -> list[dict[str, Any]]:
    """``pups`` as given: nicknames, or objects with a nickname and some of PUP_FIELDS."""
    specs = value if isinstance(value, list) else [value]
    out = []
    for spec in specs:
        spec = {"nickname": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, dict) or not isinstance(spec.get("nickname"), str):
            raise BadRequest("pups: each pup is a nickname or an object with a nickname")
        unknown = sorted(set(spec) - set(PUP_FIELDS))
        if unknown:
            raise BadRequest(f"pups: unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        if not alf.is_valid_nickname(spec["nickname"]):
            raise BadRequest(f"pups: nickname {spec['nickname']!r} breaks the ALF rule")
        if spec.get("sex", "U") not in ("M", "F", "U"):
            raise BadRequest(f"pups: sex {spec['sex']!r} is not one of M, F, U")
        out.append(spec)
    return out


def father_of(litter: Litter) -> Subject | None:
    if not litter.breeding_pair:
        return None
    try:
        pair = BreedingPair.get(litter.breeding_pair)
        return find_subject(pair.father, litter.lab) if pair.father else None
    except (BreedingPair.DoesNotExist, NotFound):
        return None


def create_pups(litter: Litter, specs: list[dict[str, Any]], responsible_user: str | None) -> list[Subject]:
    """The litter's pups as subjects; a nickname already taken in the lab is a 409 before any is made."""
    taken = [
        s["nickname"] for s in specs if any(x.lab == litter.lab for x in subjects_referenced(s["nickname"]))
    ]
    if taken:
        raise Conflict(f"pups: already in lab {litter.lab}: {', '.join(taken)}")
    father = father_of(litter)
    inherited = {
        "birth_date": litter.birth_date,
        "line": litter.line,
        "litter": litter.name,
        "species": father.species if father else "",
        "strain": father.strain if father else None,
        "source": father.source if father else None,
        "responsible_user": (father.responsible_user if father else None) or responsible_user,
    }
    born = []
    for spec in specs:
        pup = Subject(lab=litter.lab, **{**inherited, **spec})
        history.save_audited("subjects", pup, None, responsible_user)
        born.append(pup)
    return born


def pups(litter: Litter) -> list[Subject]:
    return sorted(Subject.by_litter.query(litter.name), key=lambda s: s.nickname)


def pups_of(litters: list[Litter]) -> dict[str, list[str]]:
    """Nicknames of the pups of each litter: one query for one litter, else one per lab (a page of
    litters must not cost a query each)."""
    if len(litters) == 1:
        return {litters[0].name: [pup.nickname for pup in pups(litters[0])]}
    found: dict[str, list[str]] = {litter.name: [] for litter in litters}
    for lab in {litter.lab for litter in litters}:
        for subject in Subject.by_lab.query(lab, filter_condition=Subject.litter.exists()):
            if subject.litter in found:
                found[subject.litter].append(subject.nickname)
    return {name: sorted(nicknames) for name, nicknames in found.items()}


def house_parents(pair: BreedingPair, cage: str, user: str | None) -> None:
    """Typing a cage on a breeding pair puts every parent in it."""
    for nickname in (pair.father, pair.mother1, pair.mother2):
        if not nickname:
            continue
        parent = find_subject(nickname, pair.lab)
        if parent.cage != cage:
            before = history.snapshot(parent)
            parent.cage = cage
            record_changes(parent, before)
            history.save_audited("subjects", parent, before, user)


def assigned(requests: list[SubjectRequest]) -> dict[str, int]:
    """How many subjects were assigned to each request: one query per lab, of its subjects with one."""
    counts = {request.id: 0 for request in requests}
    for lab in {request.lab for request in requests}:
        for subject in Subject.by_lab.query(lab, filter_condition=Subject.request.exists()):
            if subject.request in counts:
                counts[subject.request] += 1
    return counts
