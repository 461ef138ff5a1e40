"""The web pages in a real headless Chromium against the local stack; a screenshot of each page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_a_lab_member_logs_in_sees_the_home_page_and_logs_out(ui):
    page = ui.page("alice")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    assert page.get_by_text("alice · cortexlab").is_visible()
    ui.shot(page, "home")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/ui/login")
    ui.goto(page, "/subjects")
    assert page.url.endswith("/ui/login?next=%2Fsubjects")
    ui.shot(page, "login")
