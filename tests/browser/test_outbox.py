"""The local outbox page, read in Chromium as a developer reads it: each email SES's mailbox
simulator answered shows its delivery status (the bounce, the complaint, the delivery), and the
addresses a bounce or a complaint suppressed get no further email."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from newsroom_tools.runner import LocalSystem, free_port
from tests.browser.conftest import save_screenshot
from tests.http_client import request

pytestmark = pytest.mark.browser

SLUG = "storm-isolde-clean-up"  # a demo article of the local run, open for comments
BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"
SUCCESS = "success@simulator.amazonses.com"


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=f"o{uuid.uuid4().hex[:8]}-",
        parameters={"ModeratorEmails": json.dumps([BOUNCE, COMPLAINT, SUCCESS])},
    ) as running:
        yield running


def post_held_comment(system: LocalSystem) -> str:
    """A first comment from a new address, held: every moderator is emailed about it."""
    unique = uuid.uuid4().hex[:8]
    posted = request(
        f"{system.api_url}/articles/{SLUG}/comments",
        method="POST",
        json_body={
            "author_name": f"Reader {unique}",
            "author_email": f"reader-{unique}@example.org",
            "body": f"A first comment, {unique}.",
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        # An address of its own: flood control would refuse a second post from one.
        source_ip=f"127.0.{random.randint(0, 255)}.{random.randint(1, 254)}",
    )
    assert posted.status == 201, posted.body
    assert posted.json()["status"] == "pending"
    return unique


def test_outbox_page_shows_each_emails_delivery_and_a_bounced_address_gets_no_more(
    system: LocalSystem, page: Page
) -> None:
    # Given a held comment, emailed to the three simulator addresses, and their events handled
    first = post_held_comment(system)
    system.wait_for_delivery_events()

    # When a developer opens the outbox page of each address (the emulator's emails are the
    # process's: other tests' emails would make the whole page long)
    for address, delivery in [
        (BOUNCE, "bounced:permanent"),
        (COMPLAINT, "complained"),
        (SUCCESS, "delivered"),
    ]:
        page.goto(f"{system.root_url}/_local/outbox?to={quote(address)}")

        # Then its email shows what SES's events said of it
        entry = page.get_by_role("article").filter(has_text=first)
        expect(entry).to_have_count(1)
        expect(entry.get_by_role("definition").filter(has_text=delivery)).to_have_count(1)
        save_screenshot(page, f"outbox-{address.split('@')[0]}")

    # And after the next held comment, only the address nothing suppressed got an email: the
    # bounce and the complaint suppressed theirs
    second = post_held_comment(system)
    system.wait_for_delivery_events()
    for address, emails in [(BOUNCE, 0), (COMPLAINT, 0), (SUCCESS, 1)]:
        page.goto(f"{system.root_url}/_local/outbox?to={quote(address)}")
        expect(page.get_by_role("article").filter(has_text=second)).to_have_count(emails)
