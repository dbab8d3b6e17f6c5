"""The demo news site in a real browser: the front page's counts, the article page with the
widget under it, the strict-CSP page, the XSS corpus rendered harmlessly, an axe-core scan, the
widget's size budget and screenshots light and dark."""

from __future__ import annotations

import gzip
import re
from typing import Any, NamedTuple

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import PageProblems, Site, csp_violations_in, save_screenshot
from tests.http_client import request

WIDGET_BUDGET_BYTES = 12 * 1024  # JS and CSS together, gzipped
SERIOUS = {"serious", "critical"}
COMMENTS_HEADING = re.compile(r"^(\d+|No) comments?$")


def count_text(count: int) -> str:
    """What the widget writes into a data-newsroom-count element."""
    if count == 0:
        return "No comments"
    return "1 comment" if count == 1 else f"{count} comments"


def open_thread(page: Page) -> None:
    """Scroll to the widget (it loads the thread as it nears the viewport) and wait for the
    thread and the form."""
    widget = page.locator("[data-newsroom-comments]")
    widget.scroll_into_view_if_needed()
    expect(page.get_by_role("heading", name=COMMENTS_HEADING)).to_be_visible()
    expect(page.locator("form.newsroom-form")).to_be_visible()


class Thread(NamedTuple):
    """A demo article with comments a module's tests approved, and the count it then shows."""

    slug: str
    ids: list[str]
    count_text: str


@pytest.fixture(scope="module")
def thread(site: Site) -> Thread:
    """The demo article `storm-isolde-clean-up` with three more approved comments, one a reply
    and one by a reader with a website. Local systems in one process share the emulator's
    state, so other modules may have approved comments there too: the count is read first."""
    slug = "storm-isolde-clean-up"
    before = request(f"{site.api}/articles/{slug}").json()["comment_count"]
    first = site.approved_comment(
        slug,
        "The volunteers on Harbour Road were *brilliant*: the road was clear by noon.",
        author_name="Jess Tremayne",
        author_url="https://jess.example.org/",
    )
    reply = site.approved_comment(
        slug,
        "Agreed. Thanks to everyone who brought a chainsaw and a flask of tea.",
        author_name="Owen Pascoe",
        parent_id=first,
    )
    other = site.approved_comment(
        slug,
        "Power came back on Quay Street at six. Kudos to the line crews.",
        author_name="Priya Nair",
    )
    return Thread(slug, [first, reply, other], count_text(before + 3))


# The front page


def test_front_page_shows_every_articles_count_from_one_request(
    site: Site, page: Page, thread: Thread
) -> None:
    # Given the demo articles, one of them with comments
    expected = {
        slug: count_text(request(f"{site.api}/articles/{slug}").json()["comment_count"])
        for slug in site.slugs
    }
    count_requests: list[str] = []

    def note(sent: Request) -> None:
        if "/comment-counts" in sent.url:
            count_requests.append(sent.url)

    page.on("request", note)

    # When a reader opens the front page
    page.goto(site.demo_url)

    # Then each teaser shows its article's count, all from one request
    for slug, text in expected.items():
        expect(page.locator(f'[data-newsroom-count="{slug}"]')).to_have_text(text)
    assert expected[thread.slug] == thread.count_text
    assert len(count_requests) == 1, count_requests


# The article page


def test_article_page_shows_the_article_and_the_widgets_thread_and_form(
    site: Site, page: Page, thread: Thread
) -> None:
    slug, ids, heading = thread
    article = request(f"{site.api}/articles/{slug}").json()

    page.goto(site.article_url(slug))

    expect(page.get_by_role("heading", level=1)).to_have_text(article["title"])
    expect(page.locator("#story-byline")).to_contain_text(f"By {article['author']['name']}")
    expect(page.locator("#story-byline time")).to_have_attribute(
        "datetime", article["published_at"]
    )
    first_paragraph = re.search(r"<p>(.*?)</p>", article["body_html"], re.S)
    assert first_paragraph is not None
    expect(page.locator("#story-body p").first).to_contain_text(first_paragraph.group(1)[:40])
    assert article["title"] in page.title()
    open_thread(page)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    for comment_id in ids:
        expect(page.locator(f"#newsroom-comment-{comment_id}")).to_be_visible()
    expect(page.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    expect(page.get_by_role("button", name="Post Comment")).to_be_visible()


def test_article_page_without_a_slug_points_back_to_the_front_page(site: Site, page: Page) -> None:
    page.goto(f"{site.demo_url}article.html")

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose an article on the front page")
    expect(page.get_by_role("link", name="Back to the front page")).to_be_visible()
    assert page.locator("[data-newsroom-comments]").count() == 0


def test_demo_pages_and_the_strict_page_have_no_csp_violation(
    site: Site, page: Page, page_problems: PageProblems, thread: Thread
) -> None:
    slug = thread.slug
    for url in (site.demo_url, site.article_url(slug), site.strict_url(slug)):
        page.goto(url)
        if url != site.demo_url:
            open_thread(page)
        else:
            expect(page.locator(f'[data-newsroom-count="{slug}"]')).to_have_text(thread.count_text)

        assert csp_violations_in(page) == [], url
    assert page_problems.csp_violations == []


def test_strict_page_policy_names_only_the_api_for_scripts_and_styles(
    site: Site, page: Page, thread: Thread
) -> None:
    reply = page.goto(site.strict_url(thread.slug))

    assert reply is not None
    policy = dict(
        part.split(" ", 1) for part in reply.headers["content-security-policy"].split("; ")
    )
    assert policy["script-src"] == site.api_origin
    assert policy["style-src"] == site.api_origin
    open_thread(page)
    expect(page.locator(f"#newsroom-comment-{thread[1][0]}")).to_be_visible()


# Accessibility


def serious_violations(page: Page, problems: PageProblems) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it stands.

    axe-core is injected as a script and adds a style element of its own, which the page's CSP
    refuses: the page must have had no violation before the scan, and what the scan causes is
    not the page's.
    """
    from axe_playwright_python.sync_playwright import Axe

    assert problems.csp_violations == [], "before the axe scan"
    results = Axe().run(page)
    problems.csp_violations.clear()
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_article_page_with_the_widget_has_no_serious_axe_violation(
    site: Site, page: Page, page_problems: PageProblems, thread: Thread, scheme: str
) -> None:
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.goto(site.article_url(thread.slug))
    open_thread(page)

    assert serious_violations(page, page_problems) == []


def test_front_page_has_no_serious_axe_violation(
    site: Site, page: Page, page_problems: PageProblems, thread: Thread
) -> None:
    page.goto(site.demo_url)
    expect(page.locator(f'[data-newsroom-count="{thread.slug}"]')).to_have_text(thread.count_text)

    assert serious_violations(page, page_problems) == []


# Size


def test_widget_js_and_css_fit_in_12_kb_gzipped(site: Site) -> None:
    sizes = {}
    for name in ("comments.js", "comments.css"):
        reply = request(f"{site.api}/embed/{name}")
        assert reply.status == 200, name
        sizes[name] = len(gzip.compress(reply.body, compresslevel=9))

    assert sum(sizes.values()) <= WIDGET_BUDGET_BYTES, sizes


# Screenshots


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_article_page_screenshot(site: Site, page: Page, thread: Thread, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.goto(site.article_url(thread.slug))
    open_thread(page)
    expect(page.locator(f"#newsroom-comment-{thread[1][1]}")).to_be_visible()

    path = save_screenshot(page, f"demo-article-{scheme}")

    assert path.stat().st_size > 10_000
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(22, 21, 19)") == (scheme == "dark"), background
