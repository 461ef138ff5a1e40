"""The colony pages in a real headless Chromium against the local stack: a colony manager makes a litter
and its pups, types a pup's genotype result, culls a mouse from its page and reads its history; the
daily check's notifications are on the home page. Screenshots for the README."""

from __future__ import annotations

import datetime
import uuid

import pytest

pytestmark = pytest.mark.e2e


def test_a_colony_managers_day(ui):
    tag = uuid.uuid4().hex[:4].upper()
    line, pair, dad, mum, litter = f"PV{tag}", f"BP{tag}", f"DAD{tag}", f"MUM{tag}", f"L{tag}"
    rest = ui.stack.rest

    def made(answer):
        assert answer.status_code == 201, answer.text

    made(rest("post", "/sequences", json={"name": f"Cre{tag}"}))
    made(rest("post", "/alleles", json={"name": f"Cre{tag}", "sequences": [f"Cre{tag}"]}))
    made(rest("post", "/lines", json={"name": line, "lab": "cortexlab", "alleles": [f"Cre{tag}"]}))
    rule = {
        "line": line,
        "allele": f"Cre{tag}",
        "sequence0": f"Cre{tag}",
        "sequence0_result": 1,
        "zygosity": 3,
    }
    made(rest("post", "/zygosity-rules", json=rule))
    for nickname, sex in ((dad, "M"), (mum, "F")):
        body = {
            "nickname": nickname,
            "lab": "cortexlab",
            "sex": sex,
            "line": line,
            "responsible_user": "alice",
        }
        made(rest("post", "/subjects", json={**body, "birth_date": "2026-01-05"}))
    made(
        rest(
            "post",
            "/breeding-pairs",
            json={"name": pair, "line": line, "father": dad, "mother1": mum, "start_date": "2026-03-01"},
        )
    )
    started = (datetime.date.today() - datetime.timedelta(days=2)).isoformat() + "T09:00"
    made(
        rest(
            "post",
            "/water-restrictions",
            json={"subject": mum, "start_time": started, "reference_weight": 22},
        )
    )
    assert rest("post", "/notification-checks").status_code == 200

    page = ui.page("alice")
    notifications = page.locator("#notifications")
    assert mum in notifications.inner_text()  # not weighed today, and water still to give
    ui.shot(page, "home-notifications")

    page.get_by_role("link", name="Colony", exact=True).click()
    page.get_by_role("link", name="Litters").click()
    page.get_by_label("Name", exact=True).fill(litter)
    page.get_by_label("Breeding pair").fill(pair)
    page.get_by_label("Birth date").fill("2026-06-01")
    page.get_by_label("Pups to create (nicknames, comma separated)").fill(f"P1{tag}, P2{tag}")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").wait_for()
    assert f"P1{tag}, P2{tag}" in page.locator("#records").inner_text()
    ui.shot(page, "colony-litters")

    page.get_by_role("link", name=litter, exact=True).click()  # the litter's own page, with its pups
    page.get_by_label(f"Cre{tag} of P1{tag}").select_option("Present")  # typed as in Alyx's pup rows
    page.get_by_role("button", name="Save genotype results").click()
    page.get_by_text("1 genotype result saved").wait_for()
    assert f"Cre{tag} +" in page.locator("#pups").inner_text()  # the zygosity the line's rule derives
    tests = rest("get", f"/genotype-tests?subject=P1{tag}").json()["results"]
    assert [(t["sequence"], t["test_result"]) for t in tests] == [(f"Cre{tag}", 1)]
    ui.shot(page, "litter")

    ui.goto(page, "/breeding-pairs?status=current")
    assert pair in page.locator("#records").inner_text()

    ui.goto(page, f"/subjects/{mum}")
    page.get_by_label("Reason").select_option("regular experiment end")
    page.get_by_role("button", name=f"Cull {mum}").click()
    page.get_by_text(f"{mum} culled on").wait_for()
    assert "Culled on" in page.locator("#culled").inner_text()
    ui.shot(page, "subject-colony")
    restrictions = rest("get", f"/water-restrictions?subject={mum}").json()["results"]
    assert all(r["end_time"] for r in restrictions)

    page.get_by_role("link", name="History", exact=True).click()
    trail = page.locator("#history").inner_text()
    assert "death_date" in trail and "alice" in trail
    ui.shot(page, "history")
