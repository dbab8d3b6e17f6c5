"""Articles a site's CMS hosts, through the local run over real HTTP (docs/cms.md): registered,
updated, closed, opened and deleted with SigV4-signed requests as API Gateway's AWS_IAM checks
them, by the API and by `newsroom articles ...`; the emails about their comments link to the
article's page on the site.

The local run has ArticleUrlTemplate set, so an article registered without its own URL (the
demo articles) links by the template, and a registered one by its canonical URL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import Reply, loopback_address, request, signed_request
from tests.local_runs import newsroom, own_table_prefix

pytestmark = pytest.mark.integration

URL_TEMPLATE = "https://courier.example.com/news/{slug}/"
MODERATOR = "moderator@example.com"
DEMO_SLUG = "storm-isolde-clean-up"


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        parameters={"ArticleUrlTemplate": URL_TEMPLATE},
    ) as running:
        yield running


@pytest.fixture
def slug() -> str:
    return f"cms-{uuid.uuid4().hex[:10]}"


def signed(
    url: str,
    *,
    method: str = "GET",
    json_body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A request signed as a moderator's AWS credentials sign it (the emulator's secret)."""
    return signed_request(
        url, method=method, json_body=json_body, raw=raw, headers=headers, access_key="AKIDCMS"
    )


def registration(slug: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "url": f"https://courier.example.com/2026/03/{slug}/",
        "title": f"Harbour wall repaired ({slug})",
        "published_at": "2026-03-04T09:00:00Z",
        "summary": "The wall is back.",
        "author": {"name": "Morwenna", "email": f"desk-{slug}@example.org"},
        "tags": ["harbour"],
        "body_markdown": "The harbour wall is *back*.",
    }
    return values | overrides


def put_article(system: LocalSystem, slug: str, body: Any, **headers: str) -> Reply:
    return signed(
        f"{system.api_url}/admin/articles/{slug}", method="PUT", json_body=body, headers=headers
    )


def post_comment(system: LocalSystem, slug: str, email: str, text: str) -> Reply:
    return request(
        f"{system.api_url}/articles/{slug}/comments",
        method="POST",
        json_body={"author_name": "Jory", "author_email": email, "body": text},
        source_ip=loopback_address(),
    )


# The API


def test_registered_article_is_served_and_an_update_keeps_its_comment_count(
    system: LocalSystem, slug: str
) -> None:
    # Given an article registered by its CMS
    created = put_article(system, slug, registration(slug))
    assert created.status == 201, created.body
    assert created.json()["url"] == f"https://courier.example.com/2026/03/{slug}/"
    assert created.json()["comment_count"] == 0
    assert created.json()["revision"] == 1
    assert created.headers["cache-control"] == "no-store"
    assert "body_markdown" not in created.json()
    served = request(f"{system.api_url}/articles/{slug}").json()
    assert served["title"] == f"Harbour wall repaired ({slug})"
    assert served["body_html"] == "<p>The harbour wall is <em>back</em>.</p>\n"
    # ... with an approved comment
    posted = post_comment(system, slug, f"jory-{slug}@example.org", "Well done, everyone.")
    assert posted.status == 201, posted.body
    approve = f"{system.api_url}/admin/comments/{slug}/{posted.json()['id']}/approve"
    assert signed(approve, method="POST").status == 200

    # When the CMS sends it again, changed
    updated = put_article(system, slug, registration(slug, title="Harbour wall: repaired"))

    # Then it is updated in place, its count kept
    assert updated.status == 200, updated.body
    assert updated.json()["title"] == "Harbour wall: repaired"
    assert updated.json()["comment_count"] == 1
    assert updated.json()["revision"] == 2  # a count is no revision of the article
    assert request(f"{system.api_url}/articles/{slug}").json()["comment_count"] == 1


def test_registration_without_author_or_body_is_served_with_the_sites_host_as_author(
    system: LocalSystem, slug: str
) -> None:
    body = {
        "url": f"https://courier.example.com/{slug}",
        "title": "Brief",
        "published_at": "2026-03-04T09:00:00+01:00",
    }

    created = put_article(system, slug, body)

    assert created.status == 201, created.body
    assert created.json()["author"] == {"name": "courier.example.com", "email": None}
    assert created.json()["has_body"] is False
    assert created.json()["published_at"] == "2026-03-04T08:00:00Z"
    assert request(f"{system.api_url}/articles/{slug}").status == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://courier.example.com/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://user:secret@courier.example.com/x"}, "url"),
        ({"url": None}, "url"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"published_at": "2026-03-04T09:00:00"}, "published_at"),
        ({"published_at": "yesterday"}, "published_at"),
        ({"author": {"email": "desk@example.org"}}, "author.name"),
        ({"author": {"name": "Morwenna", "email": "not-an-address"}}, "author.email"),
        ({"tags": ["Not A Tag"]}, "tags.0"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"comments_open": "yes"}, "comments_open"),
        ({"body_html": "<p>x</p>"}, "body"),  # and body_markdown: one of them
        ({"body_markdown": "x" * 200_001}, "body_markdown"),
        ({"revision": 7}, "revision"),  # what newsroom owns is not sent
        ({"comment_count": 1000}, "comment_count"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_registration_is_refused_naming_the_field_and_nothing_is_stored(
    system: LocalSystem, slug: str, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (registration(slug) | change).items() if v is not None}

    refused = put_article(system, slug, body)

    assert 400 <= refused.status < 500, refused.body
    error = refused.json()["error"]
    fields = [detail["field"] for detail in error["details"]]
    assert any(f == field or f.startswith(field) for f in fields), error
    assert request(f"{system.api_url}/articles/{slug}").status == 404


@pytest.mark.parametrize(
    ("path_slug", "raw", "headers", "status", "code"),
    [
        ("Not_A_Slug", None, {}, 422, "invalid_request"),
        (None, b"{not json", {}, 400, "malformed_request"),
        (None, b"[1, 2]", {}, 400, "malformed_request"),
        (None, b"{}", {"Content-Type": "text/plain"}, 400, "malformed_request"),
        (None, b'{"title": "' + b"x" * (1024 * 1024) + b'"}', {}, 413, "payload_too_large"),
        (None, None, {"If-Match": "*", "If-None-Match": "*"}, 400, "malformed_request"),
        (None, None, {"If-None-Match": '"v1"'}, 422, "invalid_request"),
    ],
)
def test_malformed_registration_is_a_4xx_in_the_error_shape(
    system: LocalSystem,
    slug: str,
    path_slug: str | None,
    raw: bytes | None,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    target = path_slug or slug
    body = raw if raw is not None else json.dumps(registration(slug)).encode()

    refused = signed(
        f"{system.api_url}/admin/articles/{target}", method="PUT", raw=body, headers=headers
    )

    assert (refused.status, refused.json()["error"]["code"]) == (status, code), refused.body
    assert request(f"{system.api_url}/articles/{slug}").status == 404


def test_article_too_large_once_rendered_is_refused_with_413(
    system: LocalSystem, slug: str
) -> None:
    # Markdown whose HTML is several times its size: a table of emphasis
    body = registration(slug, body_markdown="*a* " * 49_000)

    refused = put_article(system, slug, body)

    assert refused.status == 413, refused.body
    assert refused.json()["error"]["code"] == "article_too_large"
    assert request(f"{system.api_url}/articles/{slug}").status == 404


def test_unsigned_registration_is_the_gateways_403(system: LocalSystem, slug: str) -> None:
    refused = request(
        f"{system.api_url}/admin/articles/{slug}", method="PUT", json_body=registration(slug)
    )

    assert refused.status == 403
    assert refused.json()["error"]["code"] == "missing_authentication_token"
    assert request(f"{system.api_url}/articles/{slug}").status == 404


def test_if_none_match_creates_only_and_if_match_updates_only(
    system: LocalSystem, slug: str
) -> None:
    missing = put_article(system, slug, registration(slug), **{"If-Match": "*"})
    assert (missing.status, missing.json()["error"]["code"]) == (412, "article_not_registered")

    assert put_article(system, slug, registration(slug), **{"If-None-Match": "*"}).status == 201
    again = put_article(system, slug, registration(slug), **{"If-None-Match": "*"})
    assert (again.status, again.json()["error"]["code"]) == (412, "article_exists")
    assert put_article(system, slug, registration(slug), **{"If-Match": "*"}).status == 200


def test_closed_article_refuses_comments_until_opened_and_a_later_put_keeps_it_closed(
    system: LocalSystem, slug: str
) -> None:
    assert put_article(system, slug, registration(slug)).status == 201
    article = f"{system.api_url}/admin/articles/{slug}"

    closed = signed(f"{article}/close", method="POST")
    refused = post_comment(system, slug, f"a-{slug}@example.org", "Too late?")
    resent = put_article(system, slug, registration(slug, title="Still closed"))
    opened = signed(f"{article}/open", method="POST")
    accepted = post_comment(system, slug, f"b-{slug}@example.org", "Open again.")

    assert (closed.status, closed.json()["comments_open"]) == (200, False)
    assert (refused.status, refused.json()["error"]["code"]) == (403, "comments_closed")
    assert resent.json()["comments_open"] is False
    assert (opened.status, opened.json()["comments_open"]) == (200, True)
    assert accepted.status == 201
    assert signed(f"{article}/reopen", method="POST").status == 422
    assert signed(f"{system.api_url}/admin/articles/no-{slug}/close", method="POST").status == 404


def test_article_with_comments_is_kept_unless_its_comments_go_with_it(
    system: LocalSystem, slug: str
) -> None:
    # Given a registered article with a held comment
    assert put_article(system, slug, registration(slug)).status == 201
    posted = post_comment(system, slug, f"c-{slug}@example.org", "Held for moderation.")
    assert posted.json()["status"] == "pending"
    article = f"{system.api_url}/admin/articles/{slug}"

    # When it is deleted, then deleted with its comments
    kept = signed(article, method="DELETE")
    still_open = post_comment(system, slug, f"d-{slug}@example.org", "Still open?")
    deleted = signed(f"{article}?comments=delete", method="DELETE")

    # Then the first is refused, changing nothing; the second removes the article and every
    # comment, from the public listings, the counts and the moderation queue
    assert (kept.status, kept.json()["error"]["code"]) == (409, "article_has_comments")
    assert still_open.status == 201
    assert deleted.status == 204, deleted.body
    assert request(f"{system.api_url}/articles/{slug}").status == 404
    assert request(f"{system.api_url}/articles/{slug}/comments").json()["items"] == []
    counts = request(f"{system.api_url}/comment-counts?slugs={slug},{DEMO_SLUG}").json()
    assert set(counts["items"]) == {DEMO_SLUG}
    queue = signed(f"{system.api_url}/admin/comments?status=pending&limit=100").json()
    assert all(item["slug"] != slug for item in queue["items"])
    assert signed(article, method="DELETE").status == 404
    assert signed(f"{article}?comments=everything", method="DELETE").status == 422


def test_article_without_comments_is_deleted(system: LocalSystem, slug: str) -> None:
    assert put_article(system, slug, registration(slug, tags=["harbour", "wall"])).status == 201

    deleted = signed(f"{system.api_url}/admin/articles/{slug}", method="DELETE")

    assert deleted.status == 204
    assert request(f"{system.api_url}/articles/{slug}").status == 404
    for tag in ("harbour", "wall"):
        listed = request(f"{system.api_url}/articles?tag={tag}&limit=100").json()["items"]
        assert slug not in [item["slug"] for item in listed]


# Links to the article


def test_emails_about_a_registered_article_link_to_its_page_on_the_site(
    system: LocalSystem, slug: str
) -> None:
    # Given a registered article, its author's address given
    canonical = f"https://courier.example.com/2026/03/{slug}/"
    assert put_article(system, slug, registration(slug)).status == 201
    marker = uuid.uuid4().hex

    # When a first-time commenter's comment is held, then approved
    posted = post_comment(system, slug, f"e-{slug}@example.org", f"Grand job {marker}.")
    system.wait_for_streams()
    approve = f"{system.api_url}/admin/comments/{slug}/{posted.json()['id']}/approve"
    assert signed(approve, method="POST").status == 200
    system.wait_for_streams()

    # Then the moderators' email and the author's new-comment notice link to the page
    assert system.outbox is not None
    moderation = [e for e in system.outbox.emails(to=MODERATOR) if marker in (e.text or "")]
    notice = list(system.outbox.emails(to=f"desk-{slug}@example.org"))
    assert len(moderation) == 1
    assert len(notice) == 1
    for email in (moderation[0], notice[0]):
        assert canonical in (email.text or ""), email.text
        assert f'href="{canonical}"' in (email.html or ""), email.html
        assert "/articles/" + slug not in (email.text or "").replace(canonical, "")


def test_emails_about_an_article_without_a_url_link_by_the_article_url_template(
    system: LocalSystem,
) -> None:
    marker = uuid.uuid4().hex

    post_comment(system, DEMO_SLUG, f"f-{marker}@example.org", f"Nice one {marker}.")
    system.wait_for_streams()

    assert system.outbox is not None
    (moderation,) = [e for e in system.outbox.emails(to=MODERATOR) if marker in (e.text or "")]
    assert URL_TEMPLATE.format(slug=DEMO_SLUG) in (moderation.text or "")


def test_comment_feed_of_a_registered_article_links_to_its_page(
    system: LocalSystem, slug: str
) -> None:
    canonical = f"https://courier.example.com/2026/03/{slug}/"
    assert put_article(system, slug, registration(slug)).status == 201

    feed = request(f"{system.api_url}/articles/{slug}/comments/feed")

    assert feed.status == 200
    assert f'href="{canonical}"' in feed.text


# The command


def test_command_registers_updates_closes_opens_and_deletes_against_the_local_run(
    system: LocalSystem, slug: str, tmp_path: Path
) -> None:
    body = tmp_path / "body.md"
    body.write_text("From the *CMS*.\n")
    api = ("--api-url", system.api_url)
    fields = (
        "--url", f"https://courier.example.com/{slug}/",
        "--title", "From the command",
        "--published-at", "2026-03-04T09:00:00Z",
        "--author-name", "Morwenna",
        "--author-email", f"desk-{slug}@example.org",
        "--tag", "harbour",
        "--body-file", str(body),
    )  # fmt: skip

    registered = newsroom("articles", "register", slug, *api, *fields)
    twice = newsroom("articles", "register", slug, *api, *fields)
    updated = newsroom("articles", "update", slug, *api, *fields[:-2], "--json")
    closed = newsroom("articles", "close", slug, *api)
    reopened = newsroom("articles", "open", slug, *api)
    deleted = newsroom("articles", "delete", slug, *api)
    missing = newsroom("articles", "delete", slug, *api)

    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.startswith(f"registered {slug}: https://courier.example.com/")
    assert twice.returncode == 1
    assert "article_exists" in twice.stderr
    assert f"newsroom articles update {slug}" in twice.stderr
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["has_body"] is False  # PUT: no body sent, none kept
    assert (closed.returncode, "comments closed" in closed.stdout) == (0, True), closed.stderr
    assert (reopened.returncode, "comments open" in reopened.stdout) == (0, True), reopened.stderr
    assert (deleted.returncode, deleted.stdout.strip()) == (0, f"deleted {slug}"), deleted.stderr
    assert missing.returncode == 1
    assert f"No article has the slug '{slug}'" in missing.stderr


def test_command_prints_the_apis_message_naming_the_bad_field(
    system: LocalSystem, slug: str
) -> None:
    done = newsroom(
        "articles", "register", slug, "--api-url", system.api_url,
        "--url", "courier.example.com/no-scheme", "--title", "T",
        "--published-at", "2026-03-04T09:00:00Z",
    )  # fmt: skip

    assert done.returncode == 1
    assert "invalid_request" in done.stderr
    assert "url:" in done.stderr
    assert request(f"{system.api_url}/articles/{slug}").status == 404


def test_command_line_at_fault_sends_nothing_and_exits_2(slug: str, tmp_path: Path) -> None:
    no_url = newsroom("articles", "close", slug)
    bad_body = newsroom(
        "articles", "register", slug, "--api-url", "http://127.0.0.1:9/v1",
        "--url", "https://x.example/", "--title", "T", "--published-at", "2026-03-04T09:00:00Z",
        "--body-file", str(tmp_path / "missing.md"),
    )  # fmt: skip
    unreachable = newsroom("articles", "open", slug, "--api-url", "http://127.0.0.1:9/v1")

    assert no_url.returncode == 2
    assert "--api-url" in no_url.stderr
    assert bad_body.returncode == 2
    assert "cannot be read" in bad_body.stderr
    assert unreachable.returncode == 1
    assert "cannot reach" in unreachable.stderr
