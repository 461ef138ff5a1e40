"""Citable releases: a draft previews its counts, citation and checks before it is published; publishing
refuses, dataset by dataset, what cannot be released (changed file, CRITICAL QC unless forced); a
published release has a sortable version id that never collides, a citation, a schema.org JSON-LD
document beside its manifest, and a DataCite DOI when the stage has an account (the request checked
against DataCite's JSON schema by a loopback DataCite that answers as the real one does)."""

from __future__ import annotations

import base64
import datetime
import importlib.resources
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest

from chalicelib import alf, aws, releases
from chalicelib.models import Dataset, Release, Task
from chalicelib.sharing import citation, datacite
from tests.test_releases import LAB_PATH, TYPES, datasets_of, world  # noqa: F401 - the shared set-up

CONTRIBUTORS = [
    {"name": "Wells, Miles", "orcid": "0000-0002-1825-0097", "affiliation": "UCL"},
    "Rossant, Cyrille",
    {"name": "International Brain Laboratory", "organisation": True},
]
CITABLE = {
    "title": "KS023 training and ephys",
    "contributors": CONTRIBUTORS,
    "licence": "CC-BY-4.0",
    "keywords": ["mouse", "decision making"],
}


def draft(api, name: str = "2024_Q1", **body):
    body = {"name": name, "description": "the first release", "draft": True, **CITABLE, **body}
    body.setdefault("query", {"projects": ["brainwide"], "dataset_types": TYPES})
    return api.post("/releases", body)


def datacite_schema() -> dict:
    text = (importlib.resources.files("datacite") / "schemas" / "datacite-v4.5.json").read_text()
    return json.loads(text)


def valid_for_datacite(attributes: dict) -> None:
    schema = datacite_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator(schema, format_checker=jsonschema.FormatChecker()).validate(attributes)


def test_version_ids_sort_by_publication_and_never_collide():
    moment = datetime.datetime(2026, 11, 29, 14, 5, 30, tzinfo=datetime.UTC)
    assert citation.version_id(moment, []) == "0.261129.1405"
    assert citation.version_id(moment, ["0.261129.1405", "0.261129.1406"]) == "0.261129.1407"
    later = citation.version_id(moment + datetime.timedelta(days=40), [])
    assert sorted(["0.261129.1405", later]) == ["0.261129.1405", later]


def test_the_citation_names_contributors_year_title_version_and_doi():
    people = citation.contributors(CONTRIBUTORS)
    text = citation.citation(people, "2026", "KS023", "0.261129.1405", "10.80000/x", "http://h/ui/releases/x")
    assert text == (
        "Wells, M.; Rossant, C.; International Brain Laboratory (2026) KS023 (Version 0.261129.1405) "
        "[Data set]. onecloud. https://doi.org/10.80000/x"
    )
    assert citation.citation([], "2026", "KS023", None, None, "http://h/p").endswith("onecloud. http://h/p")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"licence": "GPL"}, "licence: expected one of CC-BY-4.0, CC0-1.0"),
        ({"contributors": [{"orcid": "x"}]}, "each contributor needs a name"),
        ({"contributors": [{"name": "A, B", "orcid": "12"}]}, "orcid must look like"),
        ({"keywords": [3]}, "keywords: expected a list of words"),
        ({"nwb": "yes"}, "nwb: expected true or false"),
    ],
)
def test_bad_citation_metadata_is_refused_and_writes_nothing(api, world, body, message):  # noqa: F811
    answer = draft(api, **body)
    assert answer.status_code == 400 and message in answer.json_body["detail"]
    assert list(Release.scan()) == []


def test_a_draft_is_previewed_and_checked_then_published_with_a_version_and_citation(api, world):  # noqa: F811
    answer = draft(api)
    assert answer.status_code == 201, answer.json_body
    preview = answer.json_body
    assert (preview["status"], preview["session_count"], preview["dataset_count"]) == ("draft", 1, 2)
    assert preview["check"] == {"publishable": True, "datasets": [], "nwb_missing": [], "critical_qc": []}
    assert preview["citation"].startswith("Wells, M.; Rossant, C.; International Brain Laboratory (20")
    assert "KS023 training and ephys (Version (given at publication)) [Data set]" in preview["citation"]
    # a draft is not public, and only superusers see it
    assert api.get("/public/releases/2024_Q1", user=None).status_code == 404
    assert api.get("/releases/2024_Q1/draft", user="alice").status_code == 403
    assert api.get("/releases/2024_Q1/draft").json_body["check"]["publishable"] is True

    published = api.post("/releases/2024_Q1/publish", {})
    assert published.status_code == 201, published.json_body
    shown = published.json_body
    assert shown["status"] == "published" and shown["doi"] is None  # no DataCite account configured
    assert shown["version"].startswith("0.") and len(shown["version"]) == 13
    assert shown["citation"] == (
        f"Wells, M.; Rossant, C.; International Brain Laboratory ({shown['published'][:4]}) "
        f"KS023 training and ephys (Version {shown['version']}) [Data set]. onecloud. "
        "http://localhost/ui/releases/2024_Q1"
    )
    assert (shown["subject_count"], shown["licence"], shown["keywords"]) == (
        1, "CC-BY-4.0", ["mouse", "decision making"]
    )  # fmt: skip
    assert api.get("/public/releases/2024_Q1", user=None).json_body["citation"] == shown["citation"]
    assert api.post("/releases/2024_Q1/publish", {}).status_code == 404  # no longer a draft

    bucket = aws.settings().data_bucket
    document = json.loads(
        aws.client("s3").get_object(Bucket=bucket, Key="releases/2024_Q1/release.jsonld")["Body"].read()
    )
    assert (document["@type"], document["name"], document["version"]) == (
        "Dataset", "KS023 training and ephys", shown["version"]
    )  # fmt: skip
    assert document["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert document["creator"][0] == {
        "@type": "Person",
        "name": "Wells, Miles",
        "givenName": "Miles",
        "familyName": "Wells",
        "identifier": "https://orcid.org/0000-0002-1825-0097",
        "affiliation": {"@type": "Organization", "name": "UCL"},
    }
    served = api.get("/public/releases/2024_Q1/jsonld", user=None)
    assert served.status_code == 200 and json.loads(served.body)["version"] == shown["version"]
    manifest = json.loads(
        aws.client("s3").get_object(Bucket=bucket, Key="releases/2024_Q1/manifest.json")["Body"].read()
    )
    assert (manifest["version"], manifest["licence"]) == (shown["version"], "CC-BY-4.0")


def test_two_releases_published_in_the_same_minute_get_different_versions(api, world):  # noqa: F811
    first = api.post("/releases", {"name": "A", "query": {"sessions": [world[1]]}}).json_body
    second = api.post("/releases", {"name": "B", "query": {"sessions": [world[2]]}}).json_body
    assert first["version"] != second["version"] and sorted([first["version"], second["version"]])


def test_publishing_refuses_each_critical_dataset_unless_forced(api, world):  # noqa: F811
    table = datasets_of(api, world[1])["alf/_ibl_trials.table.pqt"]
    Dataset(id=table["id"]).update(actions=[Dataset.qc.set(50)])
    assert draft(api).json_body["check"]["critical_qc"] == [table["id"]]
    refused = api.post("/releases/2024_Q1/publish", {})
    assert refused.status_code == 400
    assert refused.json_body["datasets"] == [
        {
            "id": table["id"],
            "path": f"{LAB_PATH}/2024-01-01/001/alf/_ibl_trials.table.pqt",
            "problems": ["its QC is CRITICAL (publish with force to release it anyway)"],
        }
    ]
    assert Release.get("2024_Q1").status == "draft" and not Dataset.get(table["id"]).tags  # nothing changed
    forced = api.post("/releases/2024_Q1/publish", {"force": True})
    assert forced.status_code == 201 and forced.json_body["dataset_count"] == 2


def test_the_checks_name_a_changed_file_and_a_name_that_is_not_alf(api, world):  # noqa: F811
    datasets, sessions = releases.select(releases.Selection(sessions=(world[1],)))
    table = next(d for d in datasets if d.name == "_ibl_trials.table.pqt")
    key = f"{LAB_PATH}/2024-01-01/001/alf/_ibl_trials.table.pqt"
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=key, Body=b"changed")
    odd = Dataset(
        id="odd", session=world[1], name="notes.txt", relative_path="notes.txt", file_size=1, hash="x", qc=0
    )
    checked = {c.dataset.id: c.problems for c in releases.check([table, odd], sessions)}
    assert checked[table.id] == ("the stored object is not the file registered (size or md5 differ)",)
    assert checked["odd"][0] == "no object in the store"
    assert checked["odd"][1].startswith("not an ALF name: ALF file name 'notes.txt' is invalid")
    with pytest.raises(alf.ALFError):
        alf.parse_dataset_path("notes.txt")


def test_a_release_that_asks_for_nwb_starts_the_exports_and_waits_for_them(api, world):  # noqa: F811
    answer = draft(api, nwb=True)
    assert answer.json_body["check"]["nwb_missing"] == [world[1]]
    assert [t.name for t in Task.by_session.query(world[1]) if t.name == "ExportNWB"] == ["ExportNWB"]
    refused = api.post("/releases/2024_Q1/publish", {})
    assert refused.status_code == 400 and refused.json_body["nwb_missing"] == [world[1]]
    assert "publish again when they are Complete" in refused.json_body["detail"]


class FakeDataCite(BaseHTTPRequestHandler):
    """DataCite's ``POST /dois`` on loopback: Basic auth, JSON:API, the attributes checked against
    DataCite's schema; 201 with the DOI, or 422 with DataCite's error shape."""

    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        expected = "Basic " + base64.b64encode(b"ONECLOUD.TEST:secret").decode()
        problems = []
        if self.path != "/dois" or self.headers.get("Authorization") != expected:
            self._answer(401, {"errors": [{"status": "401", "title": "Bad credentials."}]})
            return
        if self.headers.get("Content-Type") != "application/vnd.api+json" or body["data"]["type"] != "dois":
            problems.append("not a JSON:API dois document")
        try:
            valid_for_datacite(body["data"]["attributes"])
        except jsonschema.ValidationError as error:
            problems.append(error.message)
        if problems:
            self._answer(422, {"errors": [{"status": "422", "title": p} for p in problems]})
            return
        FakeDataCite.received.append(body)
        doi = body["data"]["attributes"]["doi"]
        self._answer(
            201, {"data": {"id": doi, "type": "dois", "attributes": {"doi": doi, "state": "findable"}}}
        )

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_datacite():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDataCite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    before = aws.settings()
    aws.configure(
        before.with_changes(
            datacite_url=f"http://127.0.0.1:{server.server_port}",
            datacite_prefix="10.80000",
            datacite_user="ONECLOUD.TEST",
            datacite_password="secret",
        )
    )
    FakeDataCite.received = []
    try:
        yield FakeDataCite
    finally:
        aws.configure(before)
        server.shutdown()


def test_a_published_release_gets_a_datacite_doi_when_the_stage_has_an_account(api, world, fake_datacite):  # noqa: F811
    draft(api)
    shown = api.post("/releases/2024_Q1/publish", {}).json_body
    assert shown["doi"] == f"10.80000/onecloud.2024_q1.{shown['version']}"
    assert shown["citation"].endswith(f"[Data set]. onecloud. https://doi.org/{shown['doi']}")
    (sent,) = fake_datacite.received
    attributes = sent["data"]["attributes"]
    assert attributes["event"] == "publish" and attributes["url"] == "http://localhost/ui/releases/2024_Q1"
    assert attributes["creators"][0]["nameIdentifiers"][0]["nameIdentifier"].endswith("0000-0002-1825-0097")
    assert attributes["creators"][2] == {
        "name": "International Brain Laboratory",
        "nameType": "Organizational",
    }
    assert attributes["rightsList"][0]["rightsIdentifier"] == "cc-by-4.0"
    document = releases.json_ld(Release.get("2024_Q1"), "http://localhost")
    assert document["identifier"] == f"https://doi.org/{shown['doi']}"


def test_a_datacite_refusal_leaves_the_release_published_without_a_doi(api, world, fake_datacite):  # noqa: F811
    aws.configure(aws.settings().with_changes(datacite_password="wrong"))
    shown = api.post("/releases", {"name": "2024_Q1", "query": {"sessions": [world[1]]}, **CITABLE}).json_body
    assert shown["status"] == "published" and shown["doi"] is None
    assert "DataCite refused the DOI (401)" in shown["doi_error"]
    assert api.get("/public/releases/2024_Q1", user=None).status_code == 200


def test_the_doi_request_is_valid_for_datacites_schema_for_every_licence(cloud):
    release = {
        "name": "r",
        "title": "A release",
        "description": "",
        "version": "0.261129.1405",
        "licence": "CC0-1.0",
        "keywords": [],
        "contributors": [],
        "published": "2026-11-29T14:05:00",
        "total_bytes": 10,
        "dataset_count": 1,
    }
    aws.configure(aws.settings().with_changes(datacite_prefix="10.80000"))
    try:
        for licence in citation.LICENCES:
            valid_for_datacite(
                datacite.doi_body({**release, "licence": licence}, "http://h/p")["data"]["attributes"]
            )
    finally:
        aws.configure(aws.settings().with_changes(datacite_prefix=""))
    with pytest.raises(jsonschema.ValidationError):
        valid_for_datacite({"titles": [{"title": "no creators"}]})
