"""Subject genetics: species, strains, sources, lines, alleles, sequences, genotype tests, zygosities and
the zygosity rules that derive one from the other (``chalicelib.colony.genetics``)."""

from __future__ import annotations

from typing import Any

from chalicelib.colony import genetics
from chalicelib.errors import BadRequest, NotFound
from chalicelib.fields import Field
from chalicelib.models import (
    Allele,
    GenotypeTest,
    Line,
    Sequence,
    Source,
    Species,
    Strain,
    Subject,
    Zygosity,
    ZygosityRule,
)
from chalicelib.resources.common import exact, icontains, lab_from, name_field
from chalicelib.rest import REGISTRY, Context, Resource, register
from chalicelib.subjects import find_subject, subjects_referenced

NAMED_FIELDS = (
    name_field(r".+"),
    Field("id", "uuid", description="kept from Alyx on import; made up otherwise"),
    Field("description"),
    Field("json", "json"),
)


def vocabulary(name: str, singular: str, model: type, description: str, *extra: Field) -> Resource:
    """A list of names only superusers change (strains, sources, cull reasons, foods...)."""
    return register(
        Resource(
            name=name,
            singular=singular,
            model=model,
            key="name",
            description=description,
            fields=NAMED_FIELDS + extra,
            params=(exact("name"), icontains("name__icontains", "name")),
            ordering=lambda item: item.name,
        )
    )


vocabulary(
    "species",
    "species",
    Species,
    "Species (Alyx's nickname, e.g. Laboratory mouse, is the name)",
    Field("latin_name", description="e.g. Mus musculus"),
)
vocabulary("strains", "strain", Strain, "Mouse strains")
vocabulary("sources", "source", Source, "Where subjects come from (vendors, other labs)")
vocabulary("sequences", "sequence", Sequence, "Sequences genotype tests look for", Field("base_pairs"))
vocabulary(
    "alleles",
    "allele",
    Allele,
    "Alleles (Alyx's nickname is the name)",
    Field("long_name"),
    Field("sequences", "list", relation="sequences"),
)

register(
    Resource(
        name="lines",
        singular="line",
        model=Line,
        key="name",
        lab_scoped=True,
        description="Mouse lines a lab breeds; only active lines are offered for new subjects",
        fields=NAMED_FIELDS
        + (
            Field("lab", required=True, null=False, relation="labs"),
            Field("long_name"),
            Field("target_phenotype"),
            Field("species", relation="species"),
            Field("strain", relation="strains"),
            Field("source", relation="sources"),
            Field("source_identifier"),
            Field("source_url"),
            Field("expression_data_url"),
            Field("alleles", "list", relation="alleles"),
            Field("is_active", "boolean"),
        ),
        params=(exact("name"), exact("lab"), exact("is_active"), exact("strain"), exact("alleles")),
        ordering=lambda line: line.name,
    )
)


def subject_of(data: dict[str, Any], lab: str | None = None) -> Subject:
    """The subject a record is about (a 400 naming the field when it is not there)."""
    try:
        return find_subject(data["subject"], lab)
    except NotFound:
        raise BadRequest(f"subject: {data['subject']!r} does not exist") from None


def about_subject(model: type):  # noqa: ANN201 - returns a build hook
    def build(data: dict[str, Any], ctx: Context) -> Any:
        subject = subject_of(data)
        values = {k: v for k, v in data.items() if k != "subject"}
        return model(subject=subject.nickname, subject_id=subject.id, lab=subject.lab, **values)

    return build


def keep_subject(record: Any, data: dict[str, Any], ctx: Context) -> None:
    if "subject" in data and data["subject"] != record.subject:
        raise BadRequest("subject: a record cannot move to another subject; delete it and create a new one")
    for name, value in data.items():
        setattr(record, name, value)


def by_subject(model: type):  # noqa: ANN201 - returns a candidates hook
    def candidates(query: dict[str, str]) -> Any:
        if "subject" not in query:
            return None
        return [r for s in subjects_referenced(query["subject"]) for r in model.by_subject.query(s.id)]

    return candidates


def _rederive(test: GenotypeTest, data: dict[str, Any], ctx: Context) -> None:
    genetics.derive_zygosities(Subject.get(test.subject_id))


def _zygosity_json(items: list[Zygosity], ctx: Context) -> list[dict[str, Any]]:
    resource = REGISTRY["zygosities"]
    return [{**resource.default_serialize(z, ctx), "symbol": genetics.symbol(z.zygosity)} for z in items]


register(
    Resource(
        name="genotype-tests",
        singular="genotype test",
        model=GenotypeTest,
        lab_scoped=True,
        description="A subject's test for a sequence (0 absent, 1 present); saving one re-derives the "
        "subject's zygosities",
        fields=(
            Field("subject", required=True, null=False),
            Field("sequence", required=True, null=False, relation="sequences"),
            Field("test_result", "integer", required=True, null=False, choices=(0, 1)),
            Field("json", "json"),
        ),
        params=(exact("subject"), exact("sequence"), exact("lab")),
        build=about_subject(GenotypeTest),
        change=keep_subject,
        candidates=by_subject(GenotypeTest),
        after_save=_rederive,
        ordering=lambda t: (t.subject, t.sequence),
    )
)

register(
    Resource(
        name="zygosities",
        singular="zygosity",
        model=Zygosity,
        lab_scoped=True,
        description="A subject's zygosity for an allele: 0 absent -/-, 1 het +/-, 2 homo +/+, 3 present +",
        fields=(
            Field("subject", required=True, null=False),
            Field("allele", required=True, null=False, relation="alleles"),
            Field("zygosity", "integer", required=True, null=False, choices=(0, 1, 2, 3)),
            Field("json", "json"),
        ),
        params=(exact("subject"), exact("allele"), exact("lab"), exact("zygosity")),
        build=about_subject(Zygosity),
        change=keep_subject,
        candidates=by_subject(Zygosity),
        serialize_many=_zygosity_json,
        ordering=lambda z: (z.subject, z.allele),
    )
)


def _rule_build(data: dict[str, Any], ctx: Context) -> ZygosityRule:
    line = Line.get(data["line"])
    return ZygosityRule(lab=line.lab, **data)


register(
    Resource(
        name="zygosity-rules",
        singular="zygosity rule",
        model=ZygosityRule,
        lab_scoped=True,
        description="For a line's allele: sequence0 result0 (and sequence1 result1) -> zygosity",
        fields=(
            Field("line", required=True, null=False, relation="lines"),
            Field("allele", required=True, null=False, relation="alleles"),
            Field("sequence0", relation="sequences"),
            Field("sequence0_result", "integer", choices=(0, 1)),
            Field("sequence1", relation="sequences"),
            Field("sequence1_result", "integer", choices=(0, 1)),
            Field("zygosity", "integer", required=True, null=False, choices=(0, 1, 2, 3)),
        ),
        params=(exact("line"), exact("allele"), exact("lab")),
        build=_rule_build,
        place=lab_from("line", Line),
        ordering=lambda r: (r.line, r.allele),
    )
)
