"""Every XSS payload of the corpus (tests/data/xss_payloads.txt) as an approved comment's name,
text and website, shown by the widget in a real browser without running a script. A module of
its own: seeding some two hundred comments through the API (each held, approved and told of by
email) is the heaviest setup of the browser tests, and its system is not the one the demo
site's other tests share."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import PageProblems, Site
from tests.browser.test_demo_site import open_thread
from tests.http_client import Reply, request
from tests.markup import xss_payloads

# Seeding posts and approves one comment after another; on a busy machine one of them can take
# longer than a reader's request may.
SEEDING_TIMEOUT_SECONDS = 60
SEEDING_ATTEMPTS = 3


# In the page before any of its scripts: any payload that runs calls one of these.
XSS_TRAP = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + "(" + args.join(",") + ")"); };
}
"""


def post_as_a_client_would(site: Site, slug: str, body: str, **fields: Any) -> Reply:
    """Post a comment, and post it again with the same Idempotency-Key after a 503 once its
    Retry-After has passed, as the widget does (a busy emulator's DynamoDB can take longer
    than the function's attempts may)."""
    key = uuid.uuid4().hex
    for _ in range(SEEDING_ATTEMPTS - 1):
        posted = site.post_comment(
            slug, body, timeout=SEEDING_TIMEOUT_SECONDS, idempotency_key=key, **fields
        )
        if posted.status != 503:
            return posted
        time.sleep(min(float(posted.headers.get("retry-after", "1")), 5.0))
    return site.post_comment(
        slug, body, timeout=SEEDING_TIMEOUT_SECONDS, idempotency_key=key, **fields
    )


@pytest.fixture(scope="module")
def hostile_article(site: Site) -> str:
    """An article whose approved comments carry every XSS payload as name and text, and each
    URL-like payload as the website too."""
    slug = site.new_article(title="Hostile comments")
    for number, payload in enumerate(xss_payloads()):
        website = payload if payload.lower().startswith("http") else ""
        name = payload.strip()[:80] or f"Reader {number}"
        posted = post_as_a_client_would(site, slug, payload, author_name=name, author_url=website)
        if posted.status == 422:  # a payload the API refuses as name or website is posted as text
            posted = post_as_a_client_would(site, slug, payload, author_name=f"Reader {number}")
        if posted.status == 422:
            continue  # not even as text (empty, say): nothing to render
        assert posted.status == 201, (payload, posted.body)
        answer = posted.json()
        if answer["status"] != "approved":
            site.moderate(slug, answer["id"], "approve", timeout=SEEDING_TIMEOUT_SECONDS)
    site.system.wait_for_streams()
    return slug


def test_xss_corpus_is_rendered_without_running_a_script_or_a_javascript_link(
    site: Site,
    page: Page,
    page_problems: PageProblems,
    hostile_article: str,
) -> None:
    # Given every payload approved under one article
    listed = request(f"{site.api}/articles/{hostile_article}").json()["comment_count"]
    assert listed > 100
    page.add_init_script(XSS_TRAP)

    # When a reader opens it and loads every comment
    page.goto(site.article_url(hostile_article))
    open_thread(page)
    more = page.get_by_role("button", name="Load more comments")
    while page.locator("article.newsroom-comment").count() < listed:
        more.click()
        page.wait_for_function(
            "n => document.querySelectorAll('article.newsroom-comment').length > n",
            arg=page.locator("article.newsroom-comment").count(),
        )

    # Then every comment is shown, nothing ran, and no link of the widget is javascript:
    assert page.locator("article.newsroom-comment").count() == listed
    assert page.evaluate("window.__xss") == []
    assert page_problems.dialogs == []
    assert page_problems.page_errors == []
    assert widget_urls_with_script(page) == []
    assert widget_event_handler_attributes(page) == []


def widget_urls_with_script(page: Page) -> list[str]:
    found: list[str] = page.eval_on_selector_all(
        ".newsroom-comments [href], .newsroom-comments [src], .newsroom-comments [action], "
        ".newsroom-comments [formaction], .newsroom-comments [xlink\\:href]",
        """elements => elements.flatMap(el => ["href", "src", "action", "formaction", "xlink:href"]
             .map(name => el.getAttribute(name))
             .filter(value => value !== null && /^\\s*(javascript|vbscript):/i
               .test(value.replace(/[\\u0000-\\u001f]/g, ""))))""",
    )
    return found


def widget_event_handler_attributes(page: Page) -> list[str]:
    found: list[str] = page.eval_on_selector_all(
        ".newsroom-comments *",
        """elements => elements.flatMap(el => Array.from(el.attributes)
             .filter(a => a.name.toLowerCase().startsWith("on"))
             .map(a => el.tagName + " " + a.name))""",
    )
    return found
