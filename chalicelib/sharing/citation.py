"""What makes a release citable: its version id, licence, contributors, the citation text built from them,
and the schema.org ``Dataset`` document that dataset search engines index.

Version ids follow DANDI: ``0.YYMMDD.HHMM`` from the publication time (UTC), a minute later when that id
is taken, so ids sort by publication and never collide. The citation follows DANDI's form too:
``<contributors> (<year>) <title> (Version <version>) [Data set]. <publisher>. <DOI or landing page>``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import BadRequest

LICENCES = {
    "CC-BY-4.0": (
        "Creative Commons Attribution 4.0 International",
        "https://creativecommons.org/licenses/by/4.0/",
    ),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
}
ALIASES = {"cc-by-4.0": "CC-BY-4.0", "cc-by": "CC-BY-4.0", "cc0": "CC0-1.0", "cc0-1.0": "CC0-1.0"}
DEFAULT_LICENCE = "CC-BY-4.0"
PUBLISHER = "onecloud"


@dataclass(frozen=True)
class Contributor:
    """A person (``Last, First``) or an organisation, with an ORCID and an affiliation when known."""

    name: str
    orcid: str | None = None
    affiliation: str | None = None
    organisation: bool = False

    @property
    def family(self) -> str:
        return self.name.split(",", 1)[0].strip()

    @property
    def given(self) -> str:
        return self.name.split(",", 1)[1].strip() if "," in self.name else ""

    def cited(self) -> str:
        """``Last, F.`` as citations abbreviate given names."""
        if self.organisation or not self.given:
            return self.name
        initials = " ".join(f"{part[0]}." for part in self.given.replace("-", " ").split() if part)
        return f"{self.family}, {initials}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "orcid": self.orcid,
            "affiliation": self.affiliation,
            "organisation": self.organisation,
        }


def licence(value: Any) -> str:
    if value is None:
        return DEFAULT_LICENCE
    if not isinstance(value, str) or (value not in LICENCES and value.lower() not in ALIASES):
        raise BadRequest(f"licence: expected one of {', '.join(LICENCES)}")
    return value if value in LICENCES else ALIASES[value.lower()]


def contributors(value: Any) -> list[Contributor]:
    """A list of names (``"Last, First"``) or of objects with name, orcid, affiliation, organisation."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("contributors: expected a list of names or {name, orcid, affiliation} objects")
    found = []
    for item in value:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise BadRequest("contributors: each contributor needs a name ('Last, First' for a person)")
        extra = set(item) - {"name", "orcid", "affiliation", "organisation"}
        if extra:
            raise BadRequest(f"contributors: unknown field {', '.join(sorted(extra))}")
        orcid = item.get("orcid")
        if orcid is not None and (not isinstance(orcid, str) or len(orcid.rsplit("/", 1)[-1]) != 19):
            raise BadRequest(f"contributors: {item['name']}: orcid must look like 0000-0002-1825-0097")
        found.append(
            Contributor(
                name=item["name"].strip(),
                orcid=orcid.rsplit("/", 1)[-1] if orcid else None,
                affiliation=item.get("affiliation") or None,
                organisation=bool(item.get("organisation", False)),
            )
        )
    return found


FIELDS = ("title", "contributors", "licence", "keywords", "nwb")


@dataclass(frozen=True)
class Metadata:
    """What a release says of itself, beside its selection."""

    title: str = ""
    contributors: tuple[Contributor, ...] = ()
    licence: str = DEFAULT_LICENCE
    keywords: tuple[str, ...] = ()
    nwb: bool = False  # export each session to NWB and release the files with the data


def parse_metadata(body: Mapping[str, Any]) -> Metadata:
    title = body.get("title", "")
    if not isinstance(title, str) or len(title) > 300:
        raise BadRequest("title: expected text (at most 300 characters)")
    keywords = body.get("keywords", [])
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise BadRequest("keywords: expected a list of words")
    if not isinstance(body.get("nwb", False), bool):
        raise BadRequest("nwb: expected true or false")
    return Metadata(
        title=title.strip(),
        contributors=tuple(contributors(body.get("contributors"))),
        licence=licence(body.get("licence")),
        keywords=tuple(dict.fromkeys(k.strip() for k in keywords)),
        nwb=body.get("nwb", False),
    )


def contributors_of(stored: Iterable[Mapping[str, Any]] | None) -> list[Contributor]:
    return [Contributor(**c) for c in stored or []]


def version_id(moment: datetime.datetime, taken: Iterable[str]) -> str:
    """``0.YYMMDD.HHMM`` of ``moment`` (UTC), a minute later while that id is taken."""
    used = set(taken)
    moment = moment.astimezone(datetime.UTC).replace(second=0, microsecond=0)
    while (candidate := f"0.{moment:%y%m%d}.{moment:%H%M}") in used:
        moment += datetime.timedelta(minutes=1)
    return candidate


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


def citation(
    people: list[Contributor], year: str, title: str, version: str | None, doi: str | None, landing: str
) -> str:
    names = "; ".join(c.cited() for c in people) or PUBLISHER
    versioned = f" (Version {version})" if version else ""
    return f"{names} ({year}) {title}{versioned} [Data set]. {PUBLISHER}. {doi_url(doi) if doi else landing}"


def json_ld(release: Mapping[str, Any], landing: str, cache_url: str) -> dict[str, Any]:
    """schema.org ``Dataset`` for the release (what Google Dataset Search reads from the landing page)."""
    url = LICENCES[release["licence"]][1]
    document: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": release["title"],
        "description": release["description"] or release["title"],
        "url": landing,
        "version": release["version"],
        "datePublished": (release.get("published") or "")[:10] or None,
        "license": url,
        "keywords": list(release["keywords"]),
        "isAccessibleForFree": True,
        "creator": [_person(c) for c in contributors_of(release["contributors"])],
        "publisher": {"@type": "Organization", "name": PUBLISHER},
        "citation": release["citation"],
        "distribution": [
            {
                "@type": "DataDownload",
                "name": "ONE cache tables (sessions.pqt, datasets.pqt)",
                "encodingFormat": "application/zip",
                "contentUrl": cache_url,
            }
        ],
        "variableMeasured": ["behaviour (trials, wheel)", "extracellular electrophysiology (spikes)"],
        "size": f"{release['total_bytes']} bytes",
    }
    if release.get("doi"):
        document["identifier"] = doi_url(release["doi"])
        document["sameAs"] = doi_url(release["doi"])
    return {k: v for k, v in document.items() if v not in (None, [], "")}


def _person(contributor: Contributor) -> dict[str, Any]:
    person: dict[str, Any] = {
        "@type": "Organization" if contributor.organisation else "Person",
        "name": contributor.name,
    }
    if contributor.given and not contributor.organisation:
        person["givenName"], person["familyName"] = contributor.given, contributor.family
    if contributor.orcid:
        person["identifier"] = f"https://orcid.org/{contributor.orcid}"
    if contributor.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": contributor.affiliation}
    return person
