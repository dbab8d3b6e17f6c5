"""The whole flow through the local run, as a person would do it: post a comment, get the
moderation email, approve it by its link, see the comment listed and the notices arrive."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from newsroom.local.outbox import OutboxEmail
from newsroom.local.runner import LocalSystem, free_port
from tests.http_client import Reply, loopback_address, request

pytestmark = pytest.mark.integration

SLUG = "storm-isolde-clean-up"  # a demo article, open for comments
LINK = re.compile(r"https?://\S+/links/[A-Za-z0-9._%-]+")


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(port=0, emulator_port=free_port()) as running:
        yield running


def emails_to(system: LocalSystem, address: str) -> list[OutboxEmail]:
    assert system.outbox is not None
    return system.outbox.emails(to=address)


def post_comment(system: LocalSystem, **fields: object) -> Reply:
    return request(
        f"{system.api_url}/articles/{SLUG}/comments",
        method="POST",
        json_body=fields,
        source_ip=loopback_address(),
    )


def links_in(email: OutboxEmail) -> dict[str, str]:
    """approve / spam / trash → URL, from the text part of a moderation email."""
    text = email.text or ""
    found = {}
    for label, action in (("Approve it", "approve"), ("spam", "spam"), ("Trash it", "trash")):
        line = next(line for line in text.splitlines() if label in line)
        match = LINK.search(line)
        assert match, line
        found[action] = match.group(0)
    return found


def local(system: LocalSystem, url: str) -> str:
    """A link from an email, pointed at this local run."""
    return system.api_url + urlsplit(url).path


def test_post_moderate_by_link_and_notify(system: LocalSystem) -> None:
    reader = f"reader-{uuid.uuid4().hex[:8]}@example.org"
    article = request(f"{system.api_url}/articles/{SLUG}").json()

    # Given a first-time commenter who wants to hear back
    posted = post_comment(
        system,
        author_name="Kerensa",
        author_email=reader,
        body="The harbour looked *grand* this morning.",
        notify_replies=True,
    )
    assert posted.status == 201
    comment_id = posted.json()["id"]
    assert posted.json()["status"] == "pending"

    # When the moderation email arrives
    system.wait_for_streams()
    moderation = [
        e for e in emails_to(system, "moderator@example.com") if "grand" in (e.text or "")
    ]
    assert len(moderation) == 1
    links = links_in(moderation[0])

    # Then opening the approve link (as a mail scanner would) changes nothing
    opened = request(local(system, links["approve"]))
    assert opened.status == 200
    assert '<form method="post"' in opened.text
    listed = request(f"{system.api_url}/articles/{SLUG}/comments?limit=100").json()
    assert comment_id not in [item["id"] for item in listed["items"]]

    # When the moderator presses the button
    approved = request(
        local(system, links["approve"]), method="POST", headers={"Accept": "application/json"}
    )
    assert approved.status == 200
    assert approved.json()["done"] is True

    # Then the comment is listed and counted
    listed = request(f"{system.api_url}/articles/{SLUG}/comments?limit=100").json()
    assert comment_id in [item["id"] for item in listed["items"]]
    after = request(f"{system.api_url}/articles/{SLUG}").json()
    assert after["comment_count"] == article["comment_count"] + 1

    # And the article's author hears about it, and the commenter (whose address nobody
    # confirmed yet) is asked to confirm it, once each
    system.wait_for_streams()
    (confirmation,) = emails_to(system, reader)
    assert confirmation.subject == (
        f'Confirm emails about replies to your comment on "{article["title"]}"'
    )
    match = LINK.search(confirmation.text or "")
    assert match, confirmation.text
    confirmed = request(
        local(system, match.group(0)), method="POST", headers={"Accept": "application/json"}
    )
    assert (confirmed.status, confirmed.json()["done"]) == (200, True)
    author_emails = (
        [
            e
            for e in system.outbox.emails()
            if "grand" in (e.text or "") and e.subject.startswith("New comment on")
        ]
        if system.outbox
        else []
    )
    assert len(author_emails) == 1

    # And the same link, or its spam sibling, can no longer act
    reused = request(
        local(system, links["approve"]), method="POST", headers={"Accept": "application/json"}
    )
    assert reused.status == 410
    assert reused.json()["error"]["code"] == "link_used"
    spam = request(local(system, links["spam"]), method="POST")
    assert spam.status == 410
    assert "text/html" in spam.headers["content-type"]
    assert comment_id in [
        item["id"]
        for item in request(f"{system.api_url}/articles/{SLUG}/comments?limit=100").json()["items"]
    ]


def test_tampered_link_is_refused_and_changes_nothing(system: LocalSystem) -> None:
    reader = f"reader-{uuid.uuid4().hex[:8]}@example.org"
    posted = post_comment(
        system, author_name="Tamsin", author_email=reader, body="Tampering test comment text."
    )
    assert posted.status == 201
    system.wait_for_streams()
    email = next(
        e for e in emails_to(system, "moderator@example.com") if "Tampering test" in (e.text or "")
    )
    approve = local(system, links_in(email)["approve"])
    tampered = approve[:-3] + ("AAA" if not approve.endswith("AAA") else "BBB")

    refused = request(tampered, method="POST", headers={"Accept": "application/json"})

    assert refused.status == 400
    assert refused.json()["error"]["code"] == "link_invalid"
    queue = [
        c["id"]
        for c in request(f"{system.api_url}/articles/{SLUG}/comments?limit=100").json()["items"]
    ]
    assert posted.json()["id"] not in queue


def test_outbox_page_shows_the_emails_to_a_person(system: LocalSystem) -> None:
    post_comment(
        system,
        author_name="<script>alert(1)</script>",
        author_email=f"x-{uuid.uuid4().hex[:8]}@example.org",
        body="Outbox page check <img src=x onerror=alert(1)>",
    )
    system.wait_for_streams()

    page = request(f"{system.api_url}/_local/outbox", headers={"Accept": "text/html"})
    listing = request(f"{system.api_url}/_local/outbox?format=json")

    assert page.status == 200
    assert "<script>alert(1)</script>" not in page.text
    assert listing.status == 200
    assert any("Outbox page check" in (item.get("text") or "") for item in listing.json())
