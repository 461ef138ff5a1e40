"""The colony: genetics (species, strains, sources, lines, alleles, sequences, genotype tests, zygosities
and the rules deriving them), breeding (breeding pairs, litters, subject requests), culls and housing.

Vocabularies and the records Alyx names in its REST API (lines, litters, breeding pairs...) are keyed by
that name and keep Alyx's uuid in ``id``; the rest are keyed by uuid. Records about one subject carry its
id, indexed, so a subject's genotype is one query.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now
from chalicelib.models.unique import guard


class Named(BaseModel):
    """A vocabulary entry: its name is its key, Alyx's uuid is kept beside it."""

    class Meta(TableMeta):
        table = "named"

    name = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    description = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)


class Species(Named):
    class Meta(TableMeta):
        table = "species"

    latin_name = UnicodeAttribute(default="")


class Strain(Named):
    class Meta(TableMeta):
        table = "strains"


class Source(Named):
    class Meta(TableMeta):
        table = "sources"


class Sequence(Named):
    class Meta(TableMeta):
        table = "sequences"

    base_pairs = UnicodeAttribute(default="")


class Allele(Named):
    class Meta(TableMeta):
        table = "alleles"

    long_name = UnicodeAttribute(default="")
    sequences = ListAttribute(of=UnicodeAttribute, default=list)


class CullReason(Named):
    class Meta(TableMeta):
        table = "cull-reasons"


class CullMethod(Named):
    class Meta(TableMeta):
        table = "cull-methods"


class CageType(Named):
    class Meta(TableMeta):
        table = "cage-types"


class Enrichment(Named):
    class Meta(TableMeta):
        table = "enrichments"


class Food(Named):
    class Meta(TableMeta):
        table = "foods"

    protein_pct = NumberAttribute(null=True)


class Line(Named):
    class Meta(TableMeta):
        table = "lines"

    lab = UnicodeAttribute()
    long_name = UnicodeAttribute(default="")
    target_phenotype = UnicodeAttribute(default="")
    species = UnicodeAttribute(null=True)
    strain = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    source_identifier = UnicodeAttribute(default="")
    source_url = UnicodeAttribute(default="")
    expression_data_url = UnicodeAttribute(default="")
    alleles = ListAttribute(of=UnicodeAttribute, default=list)
    is_active = BooleanAttribute(default=True)


class BreedingPair(Named):
    class Meta(TableMeta):
        table = "breeding-pairs"

    lab = UnicodeAttribute()
    line = UnicodeAttribute(null=True)
    start_date = UnicodeAttribute(null=True)
    end_date = UnicodeAttribute(null=True)
    father = UnicodeAttribute(null=True)  # subject nicknames, within the pair's lab
    mother1 = UnicodeAttribute(null=True)
    mother2 = UnicodeAttribute(null=True)


class Litter(Named):
    class Meta(TableMeta):
        table = "litters"

    lab = UnicodeAttribute()
    line = UnicodeAttribute(null=True)
    breeding_pair = UnicodeAttribute(null=True)
    birth_date = UnicodeAttribute(null=True)


class SubjectRequest(BaseModel):
    class Meta(TableMeta):
        table = "subject-requests"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    lab = UnicodeAttribute()
    user = UnicodeAttribute(null=True)
    line = UnicodeAttribute(null=True)
    count = NumberAttribute(null=True)
    date_time = UnicodeAttribute(null=True)
    due_date = UnicodeAttribute(null=True)
    description = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)


class ZygosityRule(BaseModel):
    class Meta(TableMeta):
        table = "zygosity-rules"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    lab = UnicodeAttribute()
    line = UnicodeAttribute()
    allele = UnicodeAttribute()
    sequence0 = UnicodeAttribute(null=True)
    sequence0_result = NumberAttribute(null=True)
    sequence1 = UnicodeAttribute(null=True)
    sequence1_result = NumberAttribute(null=True)
    zygosity = NumberAttribute()


class BySubject(GlobalSecondaryIndex):
    class Meta:
        index_name = "subject-index"
        projection = AllProjection()

    subject_id = UnicodeAttribute(hash_key=True)


class GenotypeTest(BaseModel):
    class Meta(TableMeta):
        table = "genotype-tests"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    lab = UnicodeAttribute()
    sequence = UnicodeAttribute()
    test_result = NumberAttribute()
    json = JSONAttribute(null=True)

    by_subject = BySubject()


class Zygosity(BaseModel):
    class Meta(TableMeta):
        table = "zygosities"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    lab = UnicodeAttribute()
    allele = UnicodeAttribute()
    zygosity = NumberAttribute()
    json = JSONAttribute(null=True)

    by_subject = BySubject()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("zygosity", f"{self.subject_id}/{self.allele}")]


class Cull(BaseModel):
    class Meta(TableMeta):
        table = "culls"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    subject = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    lab = UnicodeAttribute()
    date = UnicodeAttribute()
    cull_reason = UnicodeAttribute(null=True)
    cull_method = UnicodeAttribute(null=True)
    user = UnicodeAttribute(null=True)
    description = UnicodeAttribute(default="")
    json = JSONAttribute(null=True)

    by_subject = BySubject()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("cull", self.subject_id)]


class Housing(BaseModel):
    """A cage and its conditions for a period; a change of conditions ends it and starts the next."""

    class Meta(TableMeta):
        table = "housings"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    lab = UnicodeAttribute()
    cage_name = UnicodeAttribute()
    cage_type = UnicodeAttribute(null=True)
    food = UnicodeAttribute(null=True)
    enrichment = UnicodeAttribute(null=True)
    light_cycle = NumberAttribute(null=True)  # 0 normal, 1 inverted
    cage_cleaning_frequency_days = NumberAttribute(null=True)
    subjects = ListAttribute(of=UnicodeAttribute, default=list)  # nicknames, within the lab
    start_datetime = UnicodeAttribute(default=now)
    end_datetime = UnicodeAttribute(null=True)
    json = JSONAttribute(null=True)
