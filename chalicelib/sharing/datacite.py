"""DOIs for releases through DataCite's REST API (``POST /dois``, JSON:API, HTTP Basic auth with the
repository's account), when the stage is configured with a DataCite account: ``ONECLOUD_DATACITE_PREFIX``
(e.g. ``10.80000``), ``ONECLOUD_DATACITE_USER``, ``ONECLOUD_DATACITE_PASSWORD`` and
``ONECLOUD_DATACITE_URL`` (DataCite's test instance, ``https://api.test.datacite.org``, until the
account is a production one). Without a prefix, releases carry no DOI.

Minting happens after the release is committed (as DANDI does): a DataCite failure never undoes a
publication, the release stays without a DOI and the error is logged and returned.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from chalicelib import aws
from chalicelib.sharing.citation import LICENCES, PUBLISHER, contributors_of

TIMEOUT = 20
SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"


class DataCiteError(Exception):
    pass


def configured() -> bool:
    return bool(aws.settings().datacite_prefix)


def suffix_of(release: Mapping[str, Any]) -> str:
    """The DOI suffix: the publisher, the release's name and its version (unique and readable)."""
    return f"{PUBLISHER}.{release['name']}.{release['version']}".lower()


def doi_body(release: Mapping[str, Any], landing: str) -> dict[str, Any]:
    """The JSON:API document DataCite's ``POST /dois`` takes; ``event: publish`` makes the DOI findable."""
    settings = aws.settings()
    people = contributors_of(release["contributors"])
    creators = []
    for person in people or []:
        creator: dict[str, Any] = {"name": person.name}
        if person.organisation:
            creator["nameType"] = "Organizational"
        else:
            creator["nameType"] = "Personal"
            if person.given:
                creator["givenName"], creator["familyName"] = person.given, person.family
        if person.orcid:
            creator["nameIdentifiers"] = [
                {
                    "nameIdentifier": f"https://orcid.org/{person.orcid}",
                    "nameIdentifierScheme": "ORCID",
                    "schemeUri": "https://orcid.org",
                }
            ]
        if person.affiliation:
            creator["affiliation"] = [{"name": person.affiliation}]
        creators.append(creator)
    rights_name, rights_url = LICENCES[release["licence"]]
    attributes: dict[str, Any] = {
        "event": "publish",
        "doi": f"{settings.datacite_prefix}/{suffix_of(release)}",
        "url": landing,
        "creators": creators or [{"name": PUBLISHER, "nameType": "Organizational"}],
        "titles": [{"title": release["title"]}],
        "publisher": {"name": PUBLISHER},
        "publicationYear": release["published"][:4],
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Neurophysiology and behaviour"},
        "subjects": [{"subject": keyword} for keyword in release["keywords"]],
        "dates": [{"date": release["published"][:10], "dateType": "Issued"}],
        "version": release["version"],
        "sizes": [f"{release['total_bytes']} bytes", f"{release['dataset_count']} files"],
        "rightsList": [
            {
                "rights": rights_name,
                "rightsUri": rights_url,
                "rightsIdentifier": release["licence"].lower(),
                "rightsIdentifierScheme": "SPDX",
                "schemeUri": "https://spdx.org/licenses/",
            }
        ],
        "schemaVersion": SCHEMA_VERSION,
    }
    if release.get("description"):
        attributes["descriptions"] = [{"description": release["description"], "descriptionType": "Abstract"}]
    if release.get("supersedes_doi"):
        attributes["relatedIdentifiers"] = [
            {
                "relatedIdentifier": release["supersedes_doi"],
                "relatedIdentifierType": "DOI",
                "relationType": "IsNewVersionOf",
            }
        ]
    return {"data": {"type": "dois", "attributes": attributes}}


def mint(release: Mapping[str, Any], landing: str) -> str:
    """Register and publish the release's DOI; returns it."""
    settings = aws.settings()
    body = json.dumps(doi_body(release, landing)).encode()
    secret = base64.b64encode(f"{settings.datacite_user}:{settings.datacite_password}".encode()).decode()
    request = urllib.request.Request(
        f"{settings.datacite_url.rstrip('/')}/dois",
        data=body,
        method="POST",
        headers={"Content-Type": "application/vnd.api+json", "Authorization": f"Basic {secret}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            payload = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode("utf-8", "replace")
        raise DataCiteError(f"DataCite refused the DOI ({error.code}): {detail}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise DataCiteError(f"DataCite could not be reached: {error}") from None
    data = payload.get("data") or {}
    doi = (data.get("attributes") or {}).get("doi") or data.get("id")
    if not doi:
        raise DataCiteError("DataCite answered without a DOI")
    return str(doi)
