"""The comment widget in real Chromium, as a reader uses it: a page of the demo site's origin
(another origin than the API) with only the widget's snippet, under a strict CSP whose
script-src and style-src name the API's origin alone. The `page` fixture fails a test on any CSP
violation, uncaught error or dialog, so every test here also checks those.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, Response, Route, expect

from newsroom.form_time import issue
from newsroom.secrets import project_keys
from newsroom_tools.demo_site import STRICT_PAGE, content_security_policy
from tests.browser.conftest import PageProblems, Settings, Site, save_screenshot
from tests.browser.test_demo_site import serious_violations

HELD = "Your comment is awaiting moderation."
SAVE = "Save my name, email, and website in this browser for the next time I comment."


# The page and the reader's actions


def open_widget(
    page: Page,
    site: Site,
    placeholders: str,
    *,
    lang: str = "en",
    script: str = "",
    src: str = "",
    csp: str = "",
) -> str:
    """Open a page of the demo site's origin holding `placeholders` and the widget's snippet
    (`script`: more attributes for its tag, `src` instead of the API's script); the page's URL."""
    url = f"{site.demo_origin}/widget-test-{uuid.uuid4().hex[:8]}.html"
    html = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Widget test</title></head><body><main><h1>A story</h1>"
        f"{placeholders}</main>"
        f'<script async src="{src or site.api + "/embed/comments.js"}"{script}></script>'
        "</body></html>"
    )
    csp = csp or content_security_policy(STRICT_PAGE, site.api)

    def serve(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": csp},
            body=html,
        )

    page.route(url, serve)
    # A page Playwright serves has no address, so Chromium counts it as public and would ask
    # the reader before it reaches the loopback API (Local Network Access); the reader agrees.
    page.context.grant_permissions(["local-network-access"])
    page.goto(url)
    return url


def thread(slug: str, attributes: str = "") -> str:
    return f'<div data-newsroom-comments="{slug}"{attributes}></div>'


def the_form(page: Page) -> Locator:
    form = page.locator("form.newsroom-form")
    expect(form).to_be_visible()
    return form


def fill_form(
    page: Page, body: str, *, name: str = "Rita Reader", email: str = "", website: str = ""
) -> None:
    """Fill the form as a reader types it (an email of its own unless given)."""
    page.get_by_role("textbox", name="Comment").fill(body)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Email").fill(email or f"rita-{uuid.uuid4().hex[:8]}@ex.org")
    page.get_by_role("textbox", name="Website").fill(website)


def is_post(request: Request) -> bool:
    return request.method == "POST" and request.url.endswith("/comments")


def post(page: Page, *, within_seconds: float = 10.0) -> Response:
    """Press Post Comment; pressed again while flood control refuses it (a fraction of a second
    with `quick_flood`, and every test's browser posts from 127.0.0.1). The last answer."""
    deadline = time.monotonic() + within_seconds
    while True:
        with page.expect_response(lambda answer: is_post(answer.request)) as answered:
            page.get_by_role("button", name="Post Comment").click()
        if answered.value.status != 429 or time.monotonic() > deadline:
            return answered.value


def comment_node(page: Page, comment_id: str) -> Locator:
    return page.locator(f"#newsroom-comment-{comment_id}")


def list_requests(requests: list[Request], slug: str) -> list[Request]:
    """The thread's page reads (GET .../comments, not one comment's GET)."""
    path = f"/articles/{slug}/comments"
    return [r for r in requests if r.method == "GET" and r.url.split("?")[0].endswith(path)]


def count_requests(requests: list[Request]) -> list[Request]:
    return [r for r in requests if "/comment-counts?" in r.url]


def recorded(page: Page) -> list[Request]:
    """Every request the page makes from now on."""
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request))
    return seen


def stored(page: Page, key: str) -> Any:
    return page.evaluate("(key) => JSON.parse(localStorage.getItem(key))", key)


def pending_ids(site: Site, slug: str) -> list[str]:
    reply = site.admin("GET", "/admin/comments?status=pending&limit=100")
    assert reply.status == 200, reply.body
    return [item["id"] for item in reply.json()["items"] if item["slug"] == slug]


# The thread


def test_thread_shows_authors_avatars_relative_times_and_indents_replies(
    page: Page, site: Site
) -> None:
    # Given a thread three levels deep, with and without websites, and a listing page's counts
    slug, other = site.new_article(), site.new_article()
    top = site.approved_comment(
        slug, "The *first* word.", author_name="Ann Top", author_url="https://ann.example.org/"
    )
    middle = site.approved_comment(slug, "A reply.", author_name="Ben Middle", parent_id=top)
    deep = site.approved_comment(
        slug, "A reply to it.", author_name="Cy Deep", parent_id=middle, author_url="http://cy.ex"
    )
    requests = recorded(page)

    # When a reader opens the page
    open_widget(
        page,
        site,
        f'<p><span data-newsroom-count="{slug}"></span> · '
        f'<span data-newsroom-count="{other}"></span></p>{thread(slug)}',
    )

    # Then the thread shows the three in thread order, each at its depth
    expect(page.get_by_role("heading", name="3 comments")).to_be_visible()
    comments = page.locator("article.newsroom-comment")
    expect(comments).to_have_count(3)
    assert [c.get_attribute("id") for c in comments.all()] == [
        f"newsroom-comment-{top}",
        f"newsroom-comment-{middle}",
        f"newsroom-comment-{deep}",
    ]
    assert [c.get_attribute("data-depth") for c in comments.all()] == ["1", "2", "3"]
    expect(comments.nth(0).locator(".newsroom-body")).to_have_text("The first word.")
    expect(comments.nth(0).locator("em")).to_have_text("first")
    # authors with a website are links for people, not for search engines; others are text
    ann = comments.nth(0).get_by_role("link", name="Ann Top")
    expect(ann).to_have_attribute("href", "https://ann.example.org/")
    expect(ann).to_have_attribute("rel", "nofollow ugc noopener")
    expect(comments.nth(2).get_by_role("link", name="Cy Deep")).to_have_attribute(
        "rel", "nofollow ugc noopener"
    )
    expect(comments.nth(1).get_by_role("link")).to_have_count(0)
    expect(comments.nth(1)).to_contain_text("Ben Middle")
    # an identicon of SVG shapes, different for different commenters
    avatars = page.locator("svg.newsroom-avatar")
    expect(avatars).to_have_count(3)
    shapes = [a.evaluate("(svg) => svg.innerHTML") for a in avatars.all()]
    assert all("<rect" in s for s in shapes)
    assert len(set(shapes)) == 3
    # a relative time in the reader's language, the machine-readable one in datetime
    stamp = comments.nth(0).locator("time")
    expect(stamp).to_have_text(re.compile(r"^(now|\d+ seconds? ago|1 minute ago)$"))
    assert stamp.get_attribute("datetime")
    # each level further in than its parent
    left = [c.bounding_box()["x"] for c in comments.all()]  # type: ignore[index]
    assert left[0] < left[1] < left[2]
    # both counts of the page and the thread's state come from one request
    expect(page.locator(f'[data-newsroom-count="{slug}"]')).to_have_text("3 comments")
    expect(page.locator(f'[data-newsroom-count="{other}"]')).to_have_text("No comments")
    assert len(count_requests(requests)) == 1
    # and no style attribute anywhere: a strict CSP could not allow one
    expect(page.locator("[style]")).to_have_count(0)
    save_screenshot(page, "widget-thread-light")


def test_author_names_and_websites_are_shown_as_text_and_only_http_links(
    page: Page, site: Site
) -> None:
    # Given an API answer (here made up) whose author fields would be markup or a script link
    slug = site.new_article()
    hostile = {
        "items": [
            {
                "id": "c1",
                "parent_id": None,
                "depth": 1,
                "author_name": '<img src=x onerror="alert(1)">',
                "author_url": "javascript:alert(1)",
                "avatar": "ab" * 16,
                "body_html": "<p>Hello</p>",
                "created_at": "2026-01-01T10:00:00Z",
            }
        ],
        "next_cursor": None,
    }
    page.route(
        f"{site.api}/articles/{slug}/comments*",
        lambda route: route.fulfill(
            json=hostile, headers={"Access-Control-Allow-Origin": site.demo_origin}
        ),
    )

    # When the page shows it
    open_widget(page, site, thread(slug))

    # Then the name is text, and a website that is not http(s) is no link
    comment = page.locator("#newsroom-comment-c1")
    expect(comment).to_contain_text('<img src=x onerror="alert(1)">')
    expect(comment.locator("img")).to_have_count(0)
    expect(comment.get_by_role("link")).to_have_count(0)


def test_load_more_follows_the_cursor_with_one_request_per_page_shown(
    page: Page, site: Site
) -> None:
    # Given five comments and pages of two
    slug = site.new_article()
    ids = [site.approved_comment(slug, f"Comment number {n}.") for n in range(5)]
    requests = recorded(page)
    answers: list[Response] = []
    page.on("response", lambda r: answers.extend(r for _ in list_requests([r.request], slug)))

    # When the reader opens the page and presses Load more until it is gone
    open_widget(page, site, thread(slug, ' data-limit="2"'))
    comments = page.locator("article.newsroom-comment")
    more = page.get_by_role("button", name="Load more comments")
    expect(comments).to_have_count(2)
    expect(page.get_by_role("heading", name="5 comments")).to_be_visible()
    pages_shown = 1
    while more.is_visible():
        shown = comments.count()
        more.click()
        expect(comments).to_have_count(min(shown + 2, 5))
        pages_shown += 1

    # Then all five are shown in order, after exactly one request per page shown
    assert [c.get_attribute("id") for c in comments.all()] == [f"newsroom-comment-{i}" for i in ids]
    reads = list_requests(requests, slug)
    assert pages_shown == 3
    assert len(reads) == pages_shown
    # each asking for the cursor the page before it gave
    cursors = [json.loads(a.body())["next_cursor"] for a in answers]
    assert "cursor=" not in reads[0].url
    assert [parse_qs(urlsplit(r.url).query)["cursor"][0] for r in reads[1:]] == cursors[:-1]
    assert cursors[-1] is None


def test_the_thread_is_read_only_when_it_nears_the_viewport(page: Page, site: Site) -> None:
    # Given a page whose comments are far below the fold
    slug = site.new_article()
    site.approved_comment(slug, "Down here.")
    requests = recorded(page)

    # When the page has loaded and asked for the counts
    with page.expect_response(lambda r: "/comment-counts?" in r.url):
        open_widget(page, site, f'<svg width="10" height="5000"></svg>{thread(slug)}')

    # Then the thread is not read yet and its height is reserved
    placeholder = page.locator("[data-newsroom-comments]")
    expect(placeholder).to_have_class(re.compile(r"\bnewsroom-loading\b"))
    assert placeholder.bounding_box()["height"] >= 100  # type: ignore[index]
    assert list_requests(requests, slug) == []
    # and scrolling down reads it
    page.mouse.wheel(0, 4000)
    expect(page.locator("article.newsroom-comment")).to_have_count(1)
    expect(placeholder).not_to_have_class(re.compile(r"\bnewsroom-loading\b"))
    assert len(list_requests(requests, slug)) == 1


def test_closed_comments_show_a_note_and_no_form(page: Page, site: Site) -> None:
    slug = site.new_article(comments_open=False)

    open_widget(page, site, thread(slug))

    expect(page.get_by_text("Comments are closed.")).to_be_visible()
    expect(page.get_by_role("heading", name="No comments")).to_be_visible()
    expect(page.locator("form")).to_have_count(0)


# Posting


@pytest.mark.usefixtures("quick_flood")
def test_a_held_comment_shows_its_note_to_its_author_also_after_a_reload(
    page: Page, site: Site
) -> None:
    # Given a reader who never commented before (so the comment is held)
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    form = the_form(page)
    fill_form(page, "My very first comment\non two lines.", name="Nina New")

    # When they post it
    answer = post(page)

    # Then they are told it awaits moderation and see it, marked so, where it will appear
    assert answer.status == 201
    accepted = answer.json()
    assert accepted["status"] == "pending"
    expect(form.get_by_role("status")).to_have_text(HELD)
    mine = comment_node(page, accepted["id"])
    expect(mine).to_contain_text("Nina New")
    expect(mine).to_contain_text(HELD)
    expect(page.get_by_role("textbox", name="Comment")).to_have_value("")
    # also after a reload, though the API does not list it
    page.reload()
    expect(mine).to_contain_text(HELD)
    expect(mine.locator(".newsroom-body")).to_have_text("My very first comment\non two lines.")
    expect(page.get_by_role("heading", name="No comments")).to_be_visible()
    # and once approved it is shown as any comment, with no note
    site.moderate(slug, accepted["id"])
    page.reload()
    expect(mine.get_by_role("button", name="Reply")).to_be_visible()
    expect(mine).not_to_contain_text(HELD)
    assert stored(page, f"newsroom:pending:{slug}") is None
    save_screenshot(page, "widget-held")


@pytest.mark.usefixtures("quick_flood")
def test_field_errors_from_the_api_mark_each_field_and_link_its_message(
    page: Page, site: Site
) -> None:
    # Given values the browser accepts but the API refuses (a name of only a Hangul filler,
    # a website that is not http(s))
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    form = the_form(page)
    fill_form(page, "Fine text.", name="\u3164", website="ftp://files.example.org")

    # When the reader posts
    answer = post(page)

    # Then each refused field is marked invalid, with its message linked to it
    assert answer.status == 422
    refused = {d["field"] for d in answer.json()["error"]["details"]}
    assert refused == {"author_name", "author_url"}
    expect(form.get_by_role("alert")).to_have_text("Please correct the marked fields.")
    for label in ("Name", "Website"):
        field = page.get_by_role("textbox", name=label)
        expect(field).to_have_attribute("aria-invalid", "true")
        described = field.get_attribute("aria-describedby") or ""
        messages = [page.locator(f"#{i}") for i in described.split()]
        assert any(m.text_content() for m in messages)
        expect(field).to_have_accessible_description(re.compile(r"\S"))
    email = page.get_by_role("textbox", name="Email")
    expect(email).not_to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Your email address will not be published.")
    # the first bad field has the focus; the text is kept
    expect(page.get_by_role("textbox", name="Name")).to_be_focused()
    expect(page.get_by_role("textbox", name="Comment")).to_have_value("Fine text.")
    save_screenshot(page, "widget-field-errors")
    # and correcting a field clears its mark
    page.get_by_role("textbox", name="Name").fill("Nora Fixed")
    expect(page.get_by_role("textbox", name="Name")).not_to_have_attribute("aria-invalid", "true")


def test_a_second_comment_too_soon_says_when_to_try_again(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given flood control of a minute, and a comment just posted from this browser
    settings(flood_interval_seconds="60")
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    form = the_form(page)
    fill_form(page, "A first comment.")
    post(page, within_seconds=0)

    # When the reader posts another at once
    fill_form(page, "A second comment, too soon.")
    answer = post(page, within_seconds=0)

    # Then they read how long to wait (the API's Retry-After), and keep their text
    assert answer.status == 429
    seconds = int(answer.headers["retry-after"])
    assert seconds > 1
    expect(form.get_by_role("alert")).to_contain_text(f"Try again in {seconds} seconds")
    expect(page.get_by_role("textbox", name="Comment")).to_have_value("A second comment, too soon.")


@pytest.mark.usefixtures("quick_flood")
def test_a_failed_post_keeps_the_draft_even_across_a_reload(page: Page, site: Site) -> None:
    # Given a server that cannot be reached
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    form = the_form(page)
    page.route(
        f"{site.api}/articles/{slug}/comments",
        lambda route: route.abort() if route.request.method == "POST" else route.fallback(),
    )
    fill_form(page, "Words I do not want to lose.")

    # When the reader posts
    page.get_by_role("button", name="Post Comment").click()

    # Then they are told, offered a Retry, and the text stays, also after a reload
    expect(form.get_by_role("alert")).to_contain_text("Could not reach the comment server.")
    expect(form.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.get_by_role("textbox", name="Comment")).to_have_value(
        "Words I do not want to lose."
    )
    save_screenshot(page, "widget-network-failure")
    page.reload()
    expect(page.get_by_role("textbox", name="Comment")).to_have_value(
        "Words I do not want to lose."
    )


@pytest.mark.usefixtures("quick_flood")
def test_retry_after_a_lost_answer_stores_the_comment_once(page: Page, site: Site) -> None:
    # Given a post that reaches the server but whose answer is lost on the way back
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    form = the_form(page)
    posts: list[Request] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        posts.append(route.request)
        if len(posts) == 1:
            route.fetch()  # the server stores the comment ...
            route.abort()  # ... and the browser never hears of it
        else:
            route.fallback()

    page.route(f"{site.api}/articles/{slug}/comments", lose_first_answer)
    fill_form(page, "Sent once, whatever happens.")
    page.get_by_role("button", name="Post Comment").click()
    retry = form.get_by_role("button", name="Retry")

    # When the reader presses Retry
    retry.click()

    # Then the retry carries the same Idempotency-Key, and one comment is stored and shown
    expect(form.get_by_role("status")).to_have_text(HELD)
    assert len(posts) == 2
    keys = [p.headers.get("idempotency-key") for p in posts]
    assert keys[0]
    assert keys[0] == keys[1]
    assert posts[0].post_data == posts[1].post_data
    assert len(pending_ids(site, slug)) == 1
    expect(page.locator(".newsroom-pending")).to_have_count(1)


@pytest.mark.usefixtures("quick_flood")
def test_a_double_click_posts_once(page: Page, site: Site) -> None:
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    form = the_form(page)
    requests = recorded(page)
    fill_form(page, "Clicked twice in a hurry.")
    deadline = time.monotonic() + 10

    # When the reader double-clicks Post Comment (again while flood control, 1 s here, refuses)
    while True:
        before = len([r for r in requests if is_post(r)])
        with page.expect_response(lambda answer: is_post(answer.request)) as answered:
            page.get_by_role("button", name="Post Comment").dblclick()
        expect(page.get_by_role("button", name="Post Comment")).to_be_enabled()
        # Then each double click sends one request
        assert len([r for r in requests if is_post(r)]) == before + 1
        if answered.value.status != 429 or time.monotonic() > deadline:
            break

    # and one comment is stored and shown
    assert answered.value.status == 201
    expect(form.get_by_role("status")).to_have_text(HELD)
    assert len(pending_ids(site, slug)) == 1
    expect(page.locator(".newsroom-pending")).to_have_count(1)


@pytest.mark.usefixtures("quick_flood")
def test_name_email_and_website_are_remembered_only_with_consent(page: Page, site: Site) -> None:
    slug = site.new_article()
    name, email, website = "Cora Consent", f"cora-{uuid.uuid4().hex[:6]}@ex.org", "https://cora.ex"
    consent = page.get_by_label(SAVE)
    open_widget(page, site, thread(slug))
    the_form(page)

    # Given a reader who posts without ticking the box, nothing is kept
    expect(consent).not_to_be_checked()
    fill_form(page, "Without consent.", name=name, email=email, website=website)
    assert post(page).status == 201
    page.reload()
    expect(page.get_by_role("textbox", name="Name")).to_have_value("")
    expect(page.get_by_role("textbox", name="Email")).to_have_value("")
    assert stored(page, "newsroom:author") is None

    # When they tick it and post, the next visit has their details
    fill_form(page, "With consent.", name=name, email=email, website=website)
    consent.check()
    assert post(page).status == 201
    page.reload()
    expect(page.get_by_role("textbox", name="Name")).to_have_value(name)
    expect(page.get_by_role("textbox", name="Email")).to_have_value(email)
    expect(page.get_by_role("textbox", name="Website")).to_have_value(website)
    expect(consent).to_be_checked()

    # Then unticking the box forgets them at once
    consent.uncheck()
    assert stored(page, "newsroom:author") is None
    page.reload()
    expect(page.get_by_role("textbox", name="Name")).to_have_value("")


@pytest.mark.usefixtures("quick_flood")
def test_replies_nest_to_depth_five_and_a_reply_to_depth_five_is_its_sibling(
    page: Page, site: Site
) -> None:
    # Given a top-level comment
    slug = site.new_article()
    top = site.approved_comment(slug, "Depth one.", author_name="Dora One")
    open_widget(page, site, thread(slug))
    the_form(page)
    email = f"rex-{uuid.uuid4().hex[:6]}@ex.org"

    def reply_to(parent_id: str, body: str) -> dict[str, Any]:
        comment_node(page, parent_id).get_by_role("button", name="Reply").click()
        fill_form(page, body, name="Rex Replier", email=email)
        answer = post(page)
        assert answer.status == 201, answer.text()
        accepted: dict[str, Any] = answer.json()
        return accepted

    # When a new reader replies (held), is approved, and replies at each level below
    first = reply_to(top, "Depth two.")
    assert first["status"] == "pending"
    expect(comment_node(page, first["id"])).to_have_attribute("data-depth", "2")
    expect(comment_node(page, first["id"])).to_contain_text(HELD)
    site.moderate(slug, first["id"])
    page.reload()
    expect(comment_node(page, first["id"])).not_to_contain_text(HELD)
    ids = [top, first["id"]]
    for depth in (3, 4, 5):
        # approved at once now: read back and shown in place
        accepted = reply_to(ids[-1], f"Depth {depth}.")
        assert accepted["status"] == "approved"
        expect(comment_node(page, accepted["id"])).to_have_attribute("data-depth", str(depth))
        ids.append(accepted["id"])
    save_screenshot(page, "widget-depth-five")
    sibling = reply_to(ids[-1], "A reply to depth five.")

    # Then the reply to depth five sits beside it, after it, at depth five
    expect(comment_node(page, sibling["id"])).to_have_attribute("data-depth", "5")
    shown = [c.get_attribute("id") for c in page.locator("article.newsroom-comment").all()]
    assert shown == [f"newsroom-comment-{i}" for i in [*ids, sibling["id"]]]
    boxes = [comment_node(page, i).bounding_box() for i in [*ids, sibling["id"]]]
    left = [b["x"] for b in boxes]  # type: ignore[index]
    assert left == sorted(left)
    assert left[-1] == left[-2]
    expect(page.get_by_role("heading", name="6 comments")).to_be_visible()
    # and the API's own order, after a reload, is the one the widget showed
    page.reload()
    expect(page.locator("article.newsroom-comment")).to_have_count(6)
    again = [c.get_attribute("id") for c in page.locator("article.newsroom-comment").all()]
    assert again == shown


def test_reply_moves_the_form_and_the_focus_and_cancel_brings_them_back(
    page: Page, site: Site
) -> None:
    slug = site.new_article()
    first = site.approved_comment(slug, "First.", author_name="Fay First")
    site.approved_comment(slug, "Second.", author_name="Sam Second")
    open_widget(page, site, thread(slug))
    form = the_form(page)
    reply = comment_node(page, first).get_by_role("button", name="Reply")
    comment_field = page.get_by_role("textbox", name="Comment")

    # When the reader presses Reply under the first comment
    reply.click()

    # Then the one form sits right under it, says whom it answers, and has the focus
    expect(page.locator("form")).to_have_count(1)
    assert comment_node(page, first).evaluate("(c) => c.nextElementSibling.tagName") == "FORM"
    expect(form.get_by_text("Replying to Fay First")).to_be_visible()
    expect(comment_field).to_be_focused()

    # And Cancel puts it back at the end and the focus on that Reply button
    form.get_by_role("button", name="Cancel").click()
    expect(form.get_by_text("Replying to Fay First")).to_be_hidden()
    assert (
        page.locator("[data-newsroom-comments]").evaluate("(p) => p.lastElementChild.tagName")
        == "FORM"
    )
    expect(reply).to_be_focused()


# Looks, languages, single-page sites


def test_dark_palette_follows_the_color_scheme_and_data_theme_overrides_it(
    page: Page, site: Site
) -> None:
    slug = site.new_article()
    site.approved_comment(slug, "Seen in the dark.", author_url="https://night.example.org")

    def colours() -> tuple[str, str]:
        root = page.locator("[data-newsroom-comments]")
        button = page.get_by_role("button", name="Post Comment")
        return (
            root.evaluate("(e) => getComputedStyle(e).color"),
            button.evaluate("(e) => getComputedStyle(e).backgroundColor"),
        )

    page.emulate_media(color_scheme="light")
    open_widget(page, site, thread(slug))
    the_form(page)
    light = colours()
    save_screenshot(page, "widget-light")

    page.emulate_media(color_scheme="dark")
    dark = colours()
    save_screenshot(page, "widget-dark")
    assert dark[0] != light[0]
    assert dark[1] != light[1]

    # data-theme wins over the reader's setting, either way
    placeholder = page.locator("[data-newsroom-comments]")
    placeholder.evaluate("(p) => p.setAttribute('data-theme', 'light')")
    assert colours() == light
    page.emulate_media(color_scheme="light")
    placeholder.evaluate("(p) => p.setAttribute('data-theme', 'dark')")
    assert colours() == dark


def test_a_narrow_screen_caps_the_indentation(page: Page, site: Site) -> None:
    slug = site.new_article()
    ids = [site.approved_comment(slug, "Level one.")]
    for level in range(2, 6):
        ids.append(site.approved_comment(slug, f"Level {level}.", parent_id=ids[-1]))
    page.set_viewport_size({"width": 375, "height": 800})

    open_widget(page, site, thread(slug))

    expect(page.locator("article.newsroom-comment")).to_have_count(5)
    left = [comment_node(page, i).bounding_box()["x"] for i in ids]  # type: ignore[index]
    assert left[0] < left[1] < left[2]
    assert left[2] == left[3] == left[4]
    # nothing runs off the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    save_screenshot(page, "widget-narrow")


@pytest.mark.usefixtures("quick_flood")
def test_a_german_page_gets_german_strings(page: Page, site: Site) -> None:
    # Given a German page, and a German placeholder on an English page
    slug, other = site.new_article(), site.new_article()
    site.approved_comment(slug, "Moin.")
    site.approved_comment(other, "Hallo.")
    site.approved_comment(other, "Tschüss.")

    open_widget(page, site, thread(slug), lang="de")

    # Then the widget speaks German, its relative times too
    form = the_form(page)
    expect(page.get_by_role("heading", name="1 Kommentar")).to_be_visible()
    expect(page.get_by_role("heading", name="Schreibe einen Kommentar")).to_be_visible()
    expect(page.get_by_role("textbox", name="Kommentar")).to_be_visible()
    expect(page.get_by_role("button", name="Antworten")).to_be_visible()
    expect(page.locator("time")).to_have_text(re.compile(r"^(jetzt|vor \d+ Sekunden?)$"))
    # and explains a refused field in German
    page.get_by_role("textbox", name="Kommentar").fill("Guten Tag.")
    page.get_by_role("textbox", name="Name").fill("\u3164")
    page.get_by_role("textbox", name="E-Mail").fill(f"de-{uuid.uuid4().hex[:6]}@ex.org")
    with page.expect_response(lambda r: is_post(r.request)):
        page.get_by_role("button", name="Kommentar abschicken").click()
    expect(page.get_by_role("textbox", name="Name")).to_have_accessible_description(
        "Bitte gib deinen Namen an."
    )
    expect(form.get_by_role("alert")).to_have_text("Bitte korrigiere die markierten Felder.")

    # When an English page holds a placeholder marked German, that one is German
    open_widget(page, site, thread(slug) + f'<section lang="de">{thread(other)}</section>')
    expect(page.get_by_role("heading", name="1 comment", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="2 Kommentare")).to_be_visible()


def test_mount_and_unmount_are_idempotent(page: Page, site: Site) -> None:
    slug, later = site.new_article(), site.new_article()
    site.approved_comment(slug, "Only one of me.")
    requests = recorded(page)
    open_widget(page, site, thread(slug))
    the_form(page)
    placeholder = page.locator("[data-newsroom-comments]")

    def shown() -> tuple[int, int]:
        return page.locator("form").count(), page.locator("article.newsroom-comment").count()

    # Mounting a mounted placeholder again changes nothing and asks for nothing
    placeholder.evaluate("(p) => { window.newsroom.mount(p); window.newsroom.mount(p); }")
    assert shown() == (1, 1)
    assert len(list_requests(requests, slug)) == 1

    # Unmounting (twice) empties it
    placeholder.evaluate("(p) => { window.newsroom.unmount(p); window.newsroom.unmount(p); }")
    assert shown() == (0, 0)
    expect(placeholder).to_be_empty()
    expect(placeholder).not_to_have_class(re.compile("newsroom-"))

    # Mounting again builds one thread and one form, with no second count request
    placeholder.evaluate("(p) => window.newsroom.mount(p)")
    expect(page.locator("article.newsroom-comment")).to_have_count(1)
    assert shown() == (1, 1)
    assert len(list_requests(requests, slug)) == 2
    assert len(count_requests(requests)) == 1

    # A placeholder a single-page site adds later costs one count request for its slug
    page.locator("main").evaluate(
        "(main, slug) => { const div = document.createElement('div');"
        " div.dataset.newsroomComments = slug; main.append(div); window.newsroom.mount(div); }",
        later,
    )
    expect(page.locator("form")).to_have_count(2)
    counted = count_requests(requests)
    assert len(counted) == 2
    assert counted[1].url.endswith(f"slugs={later}")


def test_the_api_base_comes_from_data_api_when_given(page: Page, site: Site) -> None:
    # Given the script served from another place (the site's own copy), data-api naming the API
    slug = site.new_article()
    site.approved_comment(slug, "Found through data-api.")
    copy = f"{site.demo_origin}/copy/embed/comments.js"
    page.route(
        copy, lambda route: route.fulfill(response=route.fetch(url=f"{site.api}/embed/comments.js"))
    )
    requests = recorded(page)
    csp = content_security_policy(STRICT_PAGE, site.api).replace(
        "script-src ", f"script-src {site.demo_origin} "
    )

    # When the page loads it
    open_widget(page, site, thread(slug), src=copy, script=f' data-api="{site.api}/"', csp=csp)

    # Then the thread and the stylesheet come from the API, the stylesheet linked once
    expect(page.locator("article.newsroom-comment")).to_have_count(1)
    reads = list_requests(requests, slug)
    assert [r.url.split("?")[0] for r in reads] == [f"{site.api}/articles/{slug}/comments"]
    sheets = page.locator('link[rel="stylesheet"]')
    expect(sheets).to_have_count(1)
    assert (sheets.get_attribute("href") or "").startswith(f"{site.api}/embed/comments.css?v=")


# Editing and deleting one's own comment


def is_own_call(request: Request, method: str) -> bool:
    return request.method == method and "/comments/" in request.url


def save_edit(page: Page, node: Locator, *, within_seconds: float = 10.0) -> Response:
    """Press Save in the comment's edit form; pressed again while flood control refuses it
    (an edit right after the post meets it: a fraction of a second with `quick_flood`). The
    last answer."""
    deadline = time.monotonic() + within_seconds
    while True:
        with page.expect_response(lambda answer: is_own_call(answer.request, "PATCH")) as answered:
            node.get_by_role("button", name="Save").click()
        if answered.value.status != 429 or time.monotonic() > deadline:
            return answered.value


def post_own_comment(page: Page, site: Site, slug: str, body: str) -> tuple[str, Locator]:
    """Open the thread, post `body` through the form; the new comment's id and node."""
    open_widget(page, site, thread(slug))
    the_form(page)
    fill_form(page, body, name="Olive Own")
    answer = post(page)
    assert answer.status == 201, answer.text()
    comment_id = str(answer.json()["id"])
    return comment_id, comment_node(page, comment_id)


@pytest.mark.usefixtures("quick_flood")
def test_author_edits_their_comment_in_place_and_readers_see_the_new_text(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given a thread with someone else's comment, and the reader's own, published at once
    settings(require_previous_approval="false")
    slug = site.new_article()
    other = site.approved_comment(slug, "Somebody else's words.")
    mine, node = post_own_comment(page, site, slug, "Teh harbour wall.")
    expect(node.get_by_role("button", name="Edit")).to_be_visible()
    expect(comment_node(page, other).get_by_role("button", name="Edit")).to_have_count(0)

    # When they press Edit, correct the text and save
    node.get_by_role("button", name="Edit").click()
    box = node.get_by_role("textbox", name="Edit your comment")
    expect(box).to_be_focused()
    expect(box).to_have_value("Teh harbour wall.")
    box.fill("The *harbour* wall.")
    save_screenshot(page, "widget-editing", full_page=False)
    answer = save_edit(page, node)

    # Then the comment shows the new text where it was, and the change is announced
    assert answer.status == 200, answer.text()
    assert answer.request.headers["authorization"].startswith("Bearer ")
    node = comment_node(page, mine)
    expect(node.locator(".newsroom-body em")).to_have_text("harbour")
    expect(page.locator(".newsroom-comments > [role=status]")).to_have_text(
        "Your comment has been updated."
    )
    expect(node.get_by_role("button", name="Edit")).to_be_focused()
    expect(page.get_by_role("heading", name="2 comments")).to_be_visible()
    # and so does every reader, after a reload; the author can still edit it
    page.reload()
    expect(comment_node(page, mine).locator(".newsroom-body")).to_have_text("The harbour wall.")
    expect(comment_node(page, mine).get_by_role("button", name="Edit")).to_be_visible()
    page.emulate_media(color_scheme="dark")
    save_screenshot(page, "widget-own-comment-dark", full_page=False)


@pytest.mark.usefixtures("quick_flood")
def test_escape_or_cancel_leaves_the_comment_as_it_was(
    page: Page, site: Site, settings: Settings
) -> None:
    settings(require_previous_approval="false")
    slug = site.new_article()
    requests = recorded(page)
    _, node = post_own_comment(page, site, slug, "Unchanged words.")
    edit = node.get_by_role("button", name="Edit")

    edit.click()
    node.get_by_role("textbox", name="Edit your comment").fill("Changed my mind.")
    page.keyboard.press("Escape")

    expect(node.get_by_role("textbox")).to_have_count(0)
    expect(node.locator(".newsroom-body")).to_have_text("Unchanged words.")
    expect(edit).to_be_focused()
    edit.click()
    node.get_by_role("button", name="Cancel").click()
    expect(node.get_by_role("textbox")).to_have_count(0)
    assert [r for r in requests if is_own_call(r, "PATCH")] == []


@pytest.mark.usefixtures("quick_flood")
def test_an_edit_that_trips_the_policy_is_shown_as_awaiting_moderation(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given the reader's published comment, and a word that holds comments
    settings(require_previous_approval="false", moderation_keys='["hold-me"]')
    slug = site.new_article()
    mine, node = post_own_comment(page, site, slug, "Harmless.")
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()

    # When they edit the word in
    node.get_by_role("button", name="Edit").click()
    node.get_by_role("textbox", name="Edit your comment").fill("Now hold-me please.")
    answer = save_edit(page, node)

    # Then it is shown to them as held, with its new text, and counted no more
    assert (answer.status, answer.json()["status"]) == (200, "pending")
    node = comment_node(page, mine)
    expect(node).to_contain_text(HELD)
    expect(node.locator(".newsroom-body")).to_have_text("Now hold-me please.")
    expect(page.get_by_role("heading", name="No comments")).to_be_visible()
    page.reload()
    expect(comment_node(page, mine)).to_contain_text(HELD)
    expect(comment_node(page, mine).locator(".newsroom-body")).to_have_text("Now hold-me please.")


@pytest.mark.usefixtures("quick_flood")
def test_an_empty_edit_marks_the_field_and_keeps_the_form(
    page: Page, site: Site, settings: Settings
) -> None:
    settings(require_previous_approval="false")
    slug = site.new_article()
    _, node = post_own_comment(page, site, slug, "Something to say.")
    node.get_by_role("button", name="Edit").click()
    box = node.get_by_role("textbox", name="Edit your comment")
    box.fill("[]()")  # the browser lets it through; the API finds nothing to show

    answer = save_edit(page, node)

    assert answer.status == 422
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(re.compile(r"\S"))
    expect(box).to_be_focused()


@pytest.mark.usefixtures("quick_flood")
def test_delete_asks_to_confirm_then_removes_the_comment_and_its_count(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given the reader's published comment beside another
    settings(require_previous_approval="false")
    slug = site.new_article()
    site.approved_comment(slug, "Staying.")
    mine, node = post_own_comment(page, site, slug, "Going soon.")
    expect(page.get_by_role("heading", name="2 comments")).to_be_visible()

    # When they press Delete, they are asked (on the page, no dialog), the safe answer focused
    node.get_by_role("button", name="Delete").click()
    question = node.get_by_role("group", name="Delete this comment?")
    expect(question).to_be_visible()
    expect(question.get_by_role("button", name="Keep")).to_be_focused()
    save_screenshot(page, "widget-delete-confirm", full_page=False)
    page.keyboard.press("Escape")
    expect(question).to_have_count(0)
    expect(node.get_by_role("button", name="Delete")).to_be_focused()

    # And when they confirm
    node.get_by_role("button", name="Delete").click()
    with page.expect_response(lambda r: is_own_call(r.request, "DELETE")) as answered:
        node.get_by_role("group").get_by_role("button", name="Delete").click()

    # Then it is gone, counted no more, and that is announced
    assert answered.value.status == 204
    expect(comment_node(page, mine)).to_have_count(0)
    expect(page.get_by_role("heading", name="1 comment")).to_be_focused()
    expect(page.locator(".newsroom-comments > [role=status]")).to_have_text(
        "Your comment was deleted."
    )
    page.reload()
    expect(page.locator("article.newsroom-comment")).to_have_count(1)
    assert stored(page, f"newsroom:own:{slug}") is None


@pytest.mark.usefixtures("quick_flood")
def test_edit_and_delete_disappear_when_the_window_closes(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given an edit window of three seconds, and the reader's comment just posted
    settings(require_previous_approval="false", edit_window_seconds="3")
    slug = site.new_article()
    _, node = post_own_comment(page, site, slug, "Quick, or never.")
    expect(node.get_by_role("button", name="Edit")).to_be_visible()

    # When the window closes, its buttons go, also after a reload
    expect(node.get_by_role("button", name="Edit")).to_have_count(0, timeout=6_000)
    expect(node.get_by_role("button", name="Delete")).to_have_count(0)
    page.reload()
    expect(page.locator("article.newsroom-comment")).to_have_count(1)
    expect(page.get_by_role("button", name="Edit")).to_have_count(0)


@pytest.mark.usefixtures("quick_flood")
def test_a_refusal_to_edit_says_so_and_takes_the_buttons_away(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given the reader's comment, which meanwhile someone answered (here: the API says so)
    settings(require_previous_approval="false")
    slug = site.new_article()
    mine, node = post_own_comment(page, site, slug, "Before the reply.")
    refusal = {
        "error": {
            "code": "edit_window_closed",
            "message": "This comment has a reply, so it can no longer be changed or deleted.",
            "details": [],
        }
    }
    page.route(
        f"{site.api}/articles/{slug}/comments/{mine}",
        lambda route: (
            route.fulfill(
                status=403, json=refusal, headers={"Access-Control-Allow-Origin": site.demo_origin}
            )
            if route.request.method == "PATCH"
            else route.fallback()
        ),
    )

    # When they try to save an edit
    node.get_by_role("button", name="Edit").click()
    node.get_by_role("textbox", name="Edit your comment").fill("After the reply.")
    answer = save_edit(page, node)

    # Then they are told, the comment stays as it was, and Edit and Delete are gone
    assert answer.status == 403
    expect(page.locator(".newsroom-comments > [role=status]")).to_have_text(
        "This comment can no longer be changed."
    )
    expect(node.locator(".newsroom-body")).to_have_text("Before the reply.")
    expect(node.get_by_role("button", name="Edit")).to_have_count(0)
    expect(node.get_by_role("button", name="Delete")).to_have_count(0)
    assert stored(page, f"newsroom:own:{slug}") is None


@pytest.mark.usefixtures("quick_flood")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_edit_form_and_delete_question_have_no_serious_axe_violation(
    page: Page, site: Site, settings: Settings, page_problems: PageProblems, scheme: str
) -> None:
    settings(require_previous_approval="false")
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    slug = site.new_article()
    _, node = post_own_comment(page, site, slug, "Checked by axe.")

    node.get_by_role("button", name="Edit").click()
    assert serious_violations(page, page_problems) == []
    node.get_by_role("button", name="Cancel").click()
    node.get_by_role("button", name="Delete").click()
    assert serious_violations(page, page_problems) == []


@pytest.mark.usefixtures("quick_flood")
def test_with_altcha_on_the_widget_solves_the_challenge_unseen_and_the_post_is_accepted(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given ALTCHA on at its default cost, and a reader on an article's widget
    settings(altcha="on", require_previous_approval="false")
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    the_form(page)

    # When they type their comment (the form's first focus fetches the challenge) and post it
    with page.expect_response(lambda answer: answer.url.endswith("/challenge")) as issued:
        fill_form(page, "Solved without noticing.")
    answer = post(page)

    # Then the post carried a real solution of that challenge, and the server accepted it
    assert issued.value.status == 200
    assert answer.status == 201, answer.text()
    sent = json.loads(base64.b64decode(json.loads(answer.request.post_data or "{}")["altcha"]))
    assert sent["challenge"] == issued.value.json()
    assert sent["challenge"]["parameters"]["cost"] == 5000
    expect(page.get_by_text("Solved without noticing.")).to_be_visible()


def form_token_of(request: Request) -> Any:
    return json.loads(request.post_data or "{}").get("form_token")


def is_form_token(answer: Response) -> bool:
    return answer.url.endswith("/form-token")


@pytest.mark.usefixtures("quick_flood")
def test_with_a_minimum_form_time_a_reader_who_takes_their_time_is_not_held(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given a minimum of 2 s between loading the form and posting, and a reader on the widget
    settings(minimum_form_seconds="2", require_previous_approval="false")
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    the_form(page)

    # When they type their comment (the form's first focus fetches the token) and post it once
    # the minimum has passed
    with page.expect_response(is_form_token) as issued:
        fill_form(page, "Written at a human pace.")
    loaded = time.monotonic()  # the token was issued before its answer got here
    page.wait_for_timeout(max(2_100 - (time.monotonic() - loaded) * 1000, 0))
    answer = post(page)

    # Then the post carried that token, and the comment is published at once
    token = issued.value.json()
    assert (issued.value.status, token["minimum_seconds"]) == (200, 2)
    assert answer.status == 201, answer.text()
    assert form_token_of(answer.request) == token["token"]
    assert answer.json()["status"] == "approved"
    expect(page.get_by_text("Your comment has been published.")).to_be_visible()
    expect(page.get_by_text("Written at a human pace.")).to_be_visible()


@pytest.mark.usefixtures("quick_flood")
def test_a_comment_posted_sooner_than_the_minimum_shows_as_awaiting_moderation(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given a minimum of 60 s, which no reader of this test waits for
    settings(minimum_form_seconds="60", require_previous_approval="false")
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    the_form(page)

    # When a reader posts at once
    with page.expect_response(is_form_token):
        fill_form(page, "Posted in a hurry.")
    answer = post(page)

    # Then it is accepted and shown as their own held comment, as any held comment is
    assert answer.status == 201, answer.text()
    assert answer.json()["status"] == "pending"
    expect(page.get_by_text(HELD).first).to_be_visible()
    assert answer.json()["id"] in pending_ids(site, slug)


@pytest.mark.usefixtures("quick_flood")
def test_an_expired_form_token_is_replaced_unseen_and_the_post_is_not_held(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given a minimum of 1 s, and a page whose form got a token a day and a minute old (a tab
    # left open since yesterday)
    settings(minimum_form_seconds="1", require_previous_approval="false")
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    stale = issue(keys, now=datetime.now(UTC) - timedelta(days=1, minutes=1))
    served: list[str] = []

    def first_one_stale(route: Route) -> None:
        if served:
            route.continue_()
        else:
            served.append(stale)
            route.fulfill(json={"token": stale, "minimum_seconds": 1})

    page.route("**/form-token", first_one_stale)
    slug = site.new_article()
    open_widget(page, site, thread(slug))
    the_form(page)
    posts = []
    page.on("request", lambda request: posts.append(request) if is_post(request) else None)

    # When the reader types and posts
    fill_form(page, "Back after a night away.")
    page.get_by_role("button", name="Post Comment").click()

    # Then the refused post is sent again once with a new token, and the comment is published
    expect(page.get_by_text("Your comment has been published.")).to_be_visible()
    assert len(posts) == 2
    assert form_token_of(posts[0]) == stale
    assert form_token_of(posts[1]) not in (None, stale)
    first = posts[0].response()
    assert first is not None
    assert first.status == 403
    assert first.json()["error"]["code"] == "form_token_expired"
    expect(page.get_by_text("Back after a night away.")).to_be_visible()


@pytest.mark.usefixtures("quick_flood")
def test_without_a_minimum_form_time_the_token_is_asked_for_once_and_nothing_is_sent(
    page: Page, site: Site, settings: Settings
) -> None:
    # Given the default (no minimum), and a reader on the widget
    settings(require_previous_approval="false")
    slug = site.new_article()
    requests = recorded(page)
    open_widget(page, site, thread(slug))
    the_form(page)

    # When they type two comments and post them
    with page.expect_response(is_form_token) as asked:
        fill_form(page, "The first one.")
    first = post(page)
    fill_form(page, "The second one.")
    second = post(page)

    # Then the token was asked for once (404: off), never again, and no post carries one
    assert asked.value.status == 404
    assert len([r for r in requests if r.url.endswith("/form-token")]) == 1
    assert (first.status, second.status) == (201, 201)
    assert form_token_of(first.request) is None
    assert form_token_of(second.request) is None
