"""The widget in real Chromium with the API under a custom domain's base path (example.com/api,
docs/domain.md): the demo site's article page loads the widget, the thread and the counts from
``/api``, a reader's comment is posted there, and once approved it is listed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from newsroom_tools.runner import LocalSystem, free_port
from tests.browser.conftest import Site, save_screenshot
from tests.browser.test_widget import HELD, comment_node, fill_form, post


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The whole system with the API mapped at /api, as `DomainBasePath=api` deploys it."""
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        demo_port=0,
        table_prefix=f"p{uuid.uuid4().hex[:8]}-",
        parameters={"DomainBasePath": "api"},
    ) as running:
        yield Site(running, tmp_path_factory.mktemp("articles"))


def test_a_reader_comments_through_the_api_under_its_base_path(page: Page, site: Site) -> None:
    assert urlsplit(site.api).path == "/api"
    slug = site.new_article(title="The harbour wall, mapped at /api")
    api_paths: list[str] = []

    def note(sent: Request) -> None:
        if sent.url.startswith(site.api_origin):
            api_paths.append(urlsplit(sent.url).path)

    page.on("request", note)

    # Given the demo article page, whose widget talks to the API under /api
    page.context.grant_permissions(["local-network-access"])
    page.goto(site.article_url(slug))
    page.locator("[data-newsroom-comments]").scroll_into_view_if_needed()
    expect(page.get_by_role("heading", name="No comments")).to_be_visible()

    # When a reader posts a comment
    fill_form(page, "Seen from the quay under /api.", name="Tamsin Base")
    answer = post(page)

    # Then it is accepted there and held, as any first comment
    assert answer.status == 201, answer.text()
    assert urlsplit(answer.url).path == f"/api/articles/{slug}/comments"
    accepted = answer.json()
    expect(comment_node(page, accepted["id"])).to_contain_text(HELD)
    # and every request the page made to the API was under the base path
    assert api_paths
    assert all(path.startswith("/api/") for path in api_paths), api_paths

    # And once a moderator approves it, the reloaded page lists it
    site.moderate(slug, accepted["id"])
    page.reload()
    mine = comment_node(page, accepted["id"])
    expect(mine).to_contain_text("Seen from the quay under /api.")
    expect(mine).not_to_contain_text(HELD)
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    path = save_screenshot(page, "base-path-article")
    assert Path(path).stat().st_size > 0
