"""The local outbox page, read in Chromium as a developer reads it: each email SES's mailbox
simulator answered shows its delivery status (the bounce, the complaint, the delivery), and the
addresses a bounce or a complaint suppressed get no further email."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from newsroom_tools.runner import LocalSystem
from tests.browser.conftest import save_screenshot
from tests.local_runs import BOUNCE, COMPLAINT, SUCCESS, mailbox_simulator_system, post_held

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with mailbox_simulator_system() as running:
        yield running


def test_outbox_page_shows_each_emails_delivery_and_a_bounced_address_gets_no_more(
    system: LocalSystem, page: Page
) -> None:
    # Given a held comment, emailed to the three simulator addresses, and their events handled
    first, _ = post_held(system)

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
    second, _ = post_held(system)
    for address, emails in [(BOUNCE, 0), (COMPLAINT, 0), (SUCCESS, 1)]:
        page.goto(f"{system.root_url}/_local/outbox?to={quote(address)}")
        expect(page.get_by_role("article").filter(has_text=second)).to_have_count(emails)
