"""The colony vocabulary every onecloud database starts with: what Alyx ships in its fixtures (cull
reasons and methods, cage types, enrichments, foods, sources) and the laboratory mouse. Names are
onecloud's own copy; a lab adds its own through the REST resources."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.models import CageType, CullMethod, CullReason, Enrichment, Food, Source, Species

CULL_REASONS = {
    "infection or illness": "Known or indeterminate",
    "regular experiment end": "",
    "acute injury": "headplate loss, indeterminate, etc",
    "underweight": "",
    "issue during surgery": "",
    "time limit reached": "age, protocol etc... please describe in cull note",
    "benign experimental impediments": "cataract, bone regrowth, mouse didn't learn task",
}
CULL_METHODS = (
    "Cervical Dislocation",
    "Overdose",
    "CO2",
    "Decapitation",
    "Cooling",
    "Concussion of the Brain",
)
CAGE_TYPES = ("GM500", "Micro-Isolator", "IVC", "Allentown")
ENRICHMENTS = ("House", "Nesting", "Geometric object <5cm", "Wheel", "Cardboard tunnel")
# Nominal crude protein of each diet (%), from its name or the vendor's datasheet.
FOODS = {"Envigo 2919": 19.0, "Envigo 2914": 14.0, "Envigo 2018": 18.0, "Picolab Rodent Diet 20 5053": 20.0}
SOURCES = {
    "Allen Institute": "",
    "Cruciform BSU": "Subjects born in-house.",
    "Charles River": "",
    "Jax": "Jackson labs",
}
SPECIES = {"Laboratory mouse": "Mus musculus"}


def standard_items() -> list[Model]:
    return [
        *(CullReason(name=name, description=text) for name, text in CULL_REASONS.items()),
        *(CullMethod(name=name) for name in CULL_METHODS),
        *(CageType(name=name) for name in CAGE_TYPES),
        *(Enrichment(name=name) for name in ENRICHMENTS),
        *(Food(name=name, protein_pct=protein) for name, protein in FOODS.items()),
        *(Source(name=name, description=text) for name, text in SOURCES.items()),
        *(Species(name=name, latin_name=latin) for name, latin in SPECIES.items()),
    ]


def seed_colony_vocabulary() -> int:
    """Add the entries that are missing (a lab's own edits are kept); returns how many were added."""
    added = 0
    for model in (CullReason, CullMethod, CageType, Enrichment, Food, Source, Species):
        present = {item.name for item in model.scan()}
        missing = [item for item in standard_items() if type(item) is model and item.name not in present]
        with model.batch_write() as batch:
            for item in missing:
                batch.save(item)
        added += len(missing)
    return added
