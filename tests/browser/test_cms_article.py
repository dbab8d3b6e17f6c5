"""An article a site's CMS hosts (docs/cms.md), in real Chromium: registered with
`newsroom articles register` as a site owner runs it, with no body, the widget under it on the
site's own page takes a reader's comment; closed with `newsroom articles close`, it shows the
note and no form."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, save_screenshot
from tests.browser.test_widget import HELD, comment_node, fill_form, open_widget, post, thread
from tests.local_runs import newsroom


def test_a_registered_article_takes_comments_in_the_widget_and_closes(
    page: Page, site: Site
) -> None:
    # Given an article of the CMS, registered by slug and canonical URL only
    slug = f"cms-{uuid.uuid4().hex[:8]}"
    registered = newsroom(
        "articles",
        "register",
        slug,
        "--api-url",
        site.api,
        "--url",
        f"https://www.example.com/{slug}/",
        "--title",
        "The lifeboat's new engine",
        "--published-at",
        "2026-03-04T09:00:00Z",
    )
    assert registered.returncode == 0, registered.stderr

    # When a reader opens the site's page with the widget under it and comments
    open_widget(page, site, thread(slug))
    expect(page.get_by_role("heading", name="No comments")).to_be_visible()
    fill_form(page, "Good to hear the engine is in.", name="Ruth Penrose")
    answer = post(page)

    # Then the comment is taken and held, as under any article
    assert answer.status == 201, answer.text()
    accepted = answer.json()
    expect(comment_node(page, accepted["id"])).to_contain_text(HELD)
    # and once approved it is the article's one comment
    site.moderate(slug, accepted["id"])
    page.reload()
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    expect(comment_node(page, accepted["id"])).not_to_contain_text(HELD)

    # When the site closes the article's comments
    closed = newsroom("articles", "close", slug, "--api-url", site.api)
    assert closed.returncode == 0, closed.stderr
    page.reload()

    # Then the thread stays, with the note and no form
    expect(page.get_by_text("Comments are closed.")).to_be_visible()
    expect(comment_node(page, accepted["id"])).to_be_visible()
    expect(page.locator("form.newsroom-form")).to_have_count(0)
    save_screenshot(page, "cms-article-closed")
