"""CORS in a real browser: a page of the demo site (another origin than the API, one the API
allows) reads and writes through `fetch`; a page of an origin the API does not allow cannot
read any answer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Page

from newsroom_tools.demo_site import DemoSiteServer
from tests.browser.conftest import Site

# Runs in the page: the answer as the page's script can read it.
FETCH = """
async ([url, init]) => {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    location: response.headers.get("Location"),
    etag: response.headers.get("ETag"),
    json: text ? JSON.parse(text) : null,
  };
}
"""
# Runs in the page: what became of the request, read or refused.
TRY_FETCH = """
async ([url, init]) => {
  try {
    const response = await fetch(url, init);
    return `read: ${response.status} ${await response.text()}`;
  } catch (error) {
    return `${error.name}: ${error.message}`;
  }
}
"""


def fetch(page: Page, url: str, **init: Any) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate(FETCH, [url, init])
    return answer


def comment_form(**fields: Any) -> dict[str, Any]:
    return {
        "author_name": "Reader on the demo site",
        "author_email": f"cors-{uuid.uuid4().hex[:8]}@example.org",
        "author_url": "",
        "body": "Posted by a page of another origin.",
        "notify_replies": False,
        "phone": "",
    } | fields


def post_init(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": "POST",
        "headers": {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
        "body": json.dumps(form),
    }


@pytest.fixture
def on_demo_site(site: Site, page: Page) -> Page:
    """A page of the demo site's origin (its front page)."""
    page.goto(site.demo_url)
    return page


@pytest.fixture(scope="module")
def foreign_site(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A page of an origin the API does not allow (another free port), with the same CSP as
    the demo site's, so only CORS stands between it and the API."""
    root: Path = tmp_path_factory.mktemp("foreign-site")
    (root / "index.html").write_text(
        "<!doctype html><html lang=en><title>Another site</title><h1>Another site</h1></html>",
        encoding="utf-8",
    )
    server = DemoSiteServer(("127.0.0.1", 0), api_url=site.api, root=root).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_page_of_the_demo_origin_reads_an_article_and_its_etag(
    site: Site, on_demo_site: Page
) -> None:
    slug = site.slugs[0]

    answer = fetch(on_demo_site, f"{site.api}/articles/{slug}")

    assert answer["status"] == 200
    assert answer["json"]["slug"] == slug
    assert answer["etag"], "ETag is exposed to the page"


def test_page_of_the_demo_origin_lists_comments(site: Site, on_demo_site: Page) -> None:
    slug = site.new_article()
    comment_id = site.approved_comment(slug, "Listed for a page of another origin.")

    answer = fetch(on_demo_site, f"{site.api}/articles/{slug}/comments")

    assert answer["status"] == 200
    assert [item["id"] for item in answer["json"]["items"]] == [comment_id]


def test_page_of_the_demo_origin_posts_a_comment_and_reads_its_location(
    site: Site, on_demo_site: Page
) -> None:
    slug = site.new_article()
    url = f"{site.api}/articles/{slug}/comments"

    answer = fetch(on_demo_site, url, **post_init(comment_form()))

    assert answer["status"] == 201
    assert answer["json"]["status"] in {"approved", "pending"}
    assert answer["location"], "Location is exposed to the page"
    assert urljoin(url, answer["location"]) == f"{url}/{answer['json']['id']}"


def test_page_of_the_demo_origin_reads_the_field_errors_of_a_422(
    site: Site, on_demo_site: Page
) -> None:
    slug = site.new_article()
    form = comment_form(author_email="not an address", body="")

    answer = fetch(on_demo_site, f"{site.api}/articles/{slug}/comments", **post_init(form))

    assert answer["status"] == 422
    error = answer["json"]["error"]
    assert error["code"] == "invalid_request"
    assert {detail["field"] for detail in error["details"]} >= {"author_email", "body"}


def test_page_of_an_origin_not_allowed_reads_no_answer(
    site: Site, page: Page, foreign_site: str
) -> None:
    # Given a page of an origin the API does not list
    page.goto(foreign_site)
    slug = site.slugs[0]

    # When it reads an article, lists comments and posts one
    outcomes = [
        page.evaluate(TRY_FETCH, [f"{site.api}/articles/{slug}", {}]),
        page.evaluate(TRY_FETCH, [f"{site.api}/articles/{slug}/comments", {}]),
        page.evaluate(
            TRY_FETCH, [f"{site.api}/articles/{slug}/comments", post_init(comment_form())]
        ),
    ]

    # Then the browser refuses it every answer
    assert outcomes == ["TypeError: Failed to fetch"] * 3
