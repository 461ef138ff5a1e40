"""The public release pages, without an account: the list with each release's counts, and the landing
page with its citation, licence, contributors, JSON-LD, a file browser whose links are the public
download redirects, and a ONE snippet for the release."""

from __future__ import annotations

import html
import json
import re

from tests.test_release_citation import CITABLE
from tests.test_releases import LAB_PATH, TYPES, world  # noqa: F401 - the shared set-up
from tests.webpages import web  # noqa: F401


def publish(api, world, name: str = "2024_Q1") -> dict:  # noqa: F811
    body = {"name": name, "description": "KS023's first days", "query": {"sessions": [world[1], world[2]]}}
    answer = api.post("/releases", {**body, **CITABLE})
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def test_anyone_lists_the_releases_with_their_counts(api, web, world):  # noqa: F811
    shown = publish(api, world)
    page = web.get("/ui/releases")
    assert page.status == 200
    row = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/ui/releases/2024_Q1\">.*?</tr>", page.text, re.S)
    assert row, page.text
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row.group(0))
    assert cells == ["1", "2", "6", f"{shown['total_bytes']} B"]
    assert "KS023 training and ephys" in page and "Log in" in page


def test_the_landing_page_says_how_to_cite_and_serves_the_files(api, web, world):  # noqa: F811
    shown = publish(api, world)
    page = web.get("/ui/releases/2024_Q1")
    assert page.status == 200
    assert shown["citation"] in page and "Creative Commons Attribution 4.0 International" in page
    assert "Wells, Miles (ORCID), UCL; Rossant, Cyrille; International Brain Laboratory" in page
    assert "1 subject, 2 sessions, 6 datasets" in page
    document = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.S)[1]
    )
    assert (document["@type"], document["version"]) == ("Dataset", shown["version"])
    # the first session is open in the file browser; its files link to the public redirects
    links = re.findall(r'<a href="(http://localhost/public/[^"]+)" download>', page.text)
    assert len(links) == 3
    for link in links:
        answer = api.get(link.removeprefix("http://localhost"), user=None)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("http")
    other = web.get("/ui/releases/2024_Q1", session=world[2])
    assert f"{LAB_PATH}/2024-01-02/001" in other and "_ibl_trials.table.pqt" in other
    snippet = html.unescape(
        re.search(r"<pre id=\"one-snippet\"><code>(.*?)</code></pre>", other.text, re.S)[1]
    )
    assert f'eid = "{world[2]}"' in snippet and 'one.load_object(eid, "trials")' in snippet


def test_a_draft_or_unknown_release_has_no_page(api, web, world):  # noqa: F811
    api.post(
        "/releases",
        {"name": "later", "draft": True, "query": {"projects": ["brainwide"], "dataset_types": TYPES}},
    )
    assert web.get("/ui/releases/later").status == 404
    assert web.get("/ui/releases/nothing").status == 404
    assert "later" not in web.get("/ui/releases")


def test_a_superuser_checks_a_draft_on_its_page_and_publishes_it(api, web, world):  # noqa: F811
    from chalicelib.models import Dataset

    api.post("/releases", {"name": "later", "draft": True, "query": {"sessions": [world[1]]}, **CITABLE})
    table = next(d for d in Dataset.by_session.query(world[1]) if d.name == "_ibl_trials.table.pqt")
    Dataset(id=table.id).update(actions=[Dataset.qc.set(50)])
    assert web.login("alice").get("/ui/releases/later/draft").status == 403
    admin = web.login("admin")
    assert "later" in admin.get("/ui/releases")  # listed among the drafts
    page = admin.get("/ui/releases/later/draft")
    assert page.status == 200 and "Datasets that stop the release" in page
    assert "_ibl_trials.table.pqt" in page and "its QC is CRITICAL" in page
    refused = admin.post("/ui/releases/later/draft", {})
    assert refused.status == 400 and "cannot release" in refused
    published = admin.post("/ui/releases/later/draft", {"force": "yes"})
    assert published.status == 303 and published.location == "/ui/releases/later"
    assert web.get("/ui/releases/later").status == 200
