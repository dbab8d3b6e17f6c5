"""The whole flow through the local run, as a person would do it: post a comment, get the
moderation email, approve it by its link, see the comment listed and the notices arrive.

The local run serves the API under its stage (`/v1/...`), as API Gateway's invoke URL does:
the functions see paths without it (`event.path`), so every URL they hand out must still
lead back under it. Links are followed as they are in the emails, and forms as a browser
submits them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest

from newsroom_tools.outbox import OutboxEmail
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import Reply, loopback_address, request
from tests.local_runs import own_table_prefix
from tests.markup import attribute_values, text_of

pytestmark = pytest.mark.integration

SLUG = "storm-isolde-clean-up"  # a demo article, open for comments
LINK = re.compile(r"https?://\S+/links/[A-Za-z0-9._%-]+")


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(port=0, emulator_port=free_port(), table_prefix=own_table_prefix()) as running:
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
    """A link from an email, checked to point at this local run, under its stage."""
    assert url.startswith(system.api_url + "/"), (url, system.api_url)
    return url


def submit_form(page_url: str, page: Reply, **headers: str) -> tuple[str, Reply]:
    """Press the page's one button, as a browser does: POST to the form's action resolved
    against the page's URL (no action, or an empty one, is the page's own URL)."""
    (action,) = attribute_values(page.text, "form", "action")
    (method,) = attribute_values(page.text, "form", "method")
    assert method == "post"
    target = urljoin(page_url, action or "")
    return target, request(target, method="POST", headers=headers)


def test_local_run_serves_the_api_under_its_stage_as_api_gateway_does(
    system: LocalSystem,
) -> None:
    root = system.root_url

    assert urlsplit(system.api_url).path == "/v1"
    assert request(f"{system.api_url}/articles/{SLUG}").status == 200
    outside = request(f"{root}/articles/{SLUG}")
    assert outside.status == 403
    assert "/v1" in outside.json()["error"]["message"]
    assert request(f"{root}/_local/outbox").status == 200  # local tools stay at the root


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
    # ... whose Location leads, under the stage, to the comment (not public yet)
    location = urljoin(f"{system.api_url}/articles/{SLUG}/comments", posted.headers["location"])
    assert location == f"{system.api_url}/articles/{SLUG}/comments/{comment_id}"
    assert request(location).json()["error"]["code"] == "comment_not_found"

    # When the moderation email arrives
    system.wait_for_streams()
    moderation = [
        e for e in emails_to(system, "moderator@example.com") if "grand" in (e.text or "")
    ]
    assert len(moderation) == 1
    links = links_in(moderation[0])

    # Then opening the approve link (as a mail scanner would) changes nothing, and the page
    # names the comment, its author and the article
    approve = local(system, links["approve"])
    opened = request(approve)
    assert opened.status == 200
    page_text = " ".join(text_of(opened.text).split())
    assert "The harbour looked *grand* this morning." in page_text
    assert f"Kerensa, on “{article['title']}”" in page_text
    listed = request(f"{system.api_url}/articles/{SLUG}/comments?limit=100").json()
    assert comment_id not in [item["id"] for item in listed["items"]]

    # When the moderator presses the button on that page
    posted_to, approved = submit_form(approve, opened)

    # Then it was posted back to the link itself, under the stage, and approved the comment
    assert posted_to == approve
    assert approved.status == 200, approved.text
    assert "The comment was approved" in text_of(approved.text)

    # And the comment is listed and counted, and its Location serves it
    listed = request(f"{system.api_url}/articles/{SLUG}/comments?limit=100").json()
    assert comment_id in [item["id"] for item in listed["items"]]
    assert request(location).json()["id"] == comment_id
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
    confirmed = press_the_button(local(system, match.group(0)))
    assert confirmed.status == 200, confirmed.text
    assert "Thank you" in text_of(confirmed.text)
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


def moderation_email(system: LocalSystem, marker: str) -> OutboxEmail:
    system.wait_for_streams()
    (email,) = [e for e in emails_to(system, "moderator@example.com") if marker in (e.text or "")]
    return email


def press_the_button(link: str) -> Reply:
    """Open an email's link and press the button of its page, as a person does."""
    opened = request(link)
    assert opened.status == 200, opened.text
    posted_to, pressed = submit_form(link, opened)
    assert posted_to == link
    return pressed


def test_unsubscribe_button_of_a_reply_notice_stops_the_notices(system: LocalSystem) -> None:
    # Given an approved comment whose author asked to hear about replies and confirmed it (each
    # by the button of the email's link page), and an approved reply
    parent_author = f"parent-{uuid.uuid4().hex[:8]}@example.org"
    marker = uuid.uuid4().hex[:8]
    parent = post_comment(
        system,
        author_name="Morwenna",
        author_email=parent_author,
        body=f"Parent comment {marker}.",
        notify_replies=True,
    ).json()["id"]
    press_the_button(local(system, links_in(moderation_email(system, marker))["approve"]))
    system.wait_for_streams()
    (confirmation,) = emails_to(system, parent_author)
    confirm = LINK.search(confirmation.text or "")
    assert confirm, confirmation.text
    assert press_the_button(local(system, confirm.group(0))).status == 200
    reply_marker = uuid.uuid4().hex[:8]
    posted = post_comment(
        system,
        author_name="Jory",
        author_email=f"jory-{uuid.uuid4().hex[:8]}@example.org",
        body=f"A reply {reply_marker}.",
        parent_id=parent,
    )
    assert posted.status == 201, posted.text
    press_the_button(local(system, links_in(moderation_email(system, reply_marker))["approve"]))
    system.wait_for_streams()
    (notice,) = [e for e in emails_to(system, parent_author) if reply_marker in (e.text or "")]
    unsubscribe = next(
        match.group(0) for match in LINK.finditer(notice.text or "") if "/links/" in match.group(0)
    )

    # When the parent's author opens its unsubscribe link and presses the button
    pressed = press_the_button(local(system, unsubscribe))

    # Then the page says it is done
    assert pressed.status == 200, pressed.text
    assert "You will get no more emails about replies" in text_of(pressed.text)


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

    page = request(f"{system.root_url}/_local/outbox", headers={"Accept": "text/html"})
    listing = request(f"{system.root_url}/_local/outbox?format=json")

    assert page.status == 200
    assert "<script>alert(1)</script>" not in page.text
    assert listing.status == 200
    assert any("Outbox page check" in (item.get("text") or "") for item in listing.json())
