"""The local mailbox simulator: which addresses yield which SES event, in SES's shape."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from newsroom.delivery import outcome, parse
from newsroom_tools.mailbox_simulator import MailboxSimulator, simulated_event

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "delivery", "suppressed"),
    [
        ("bounce@simulator.amazonses.com", "bounced:permanent", True),
        ("bounce+label@simulator.amazonses.com", "bounced:permanent", True),
        ("complaint@simulator.amazonses.com", "complained", True),
        ("Success@Simulator.AmazonSES.com", "delivered", False),
    ],
)
def test_simulator_address_yields_the_event_ses_publishes(
    address: str, delivery: str, suppressed: bool
) -> None:
    event = simulated_event("m-1", "n@example.com", address, now=NOW)

    assert event is not None
    parsed = parse(event)  # the function's own reading of it
    assert parsed.detail.mail.message_id == "m-1"
    assert outcome(parsed).delivery == delivery
    assert bool(outcome(parsed).suppress) is suppressed


@pytest.mark.parametrize(
    "address",
    ["reader@example.org", "ooto@simulator.amazonses.com", "bounce@simulator.amazonses.com.evil"],
)
def test_other_addresses_yield_no_event(address: str) -> None:
    assert simulated_event("m-1", "n@example.com", address, now=NOW) is None


def test_each_email_is_handed_over_once_after_its_delay() -> None:
    sent = [
        SimpleNamespace(
            id="m-1",
            source="n@example.com",
            destinations=["bounce@simulator.amazonses.com", "x@example.org"],
        )
    ]
    got: list[dict[str, Any]] = []
    simulator = MailboxSimulator(lambda: sent, [(got.append, ["Email Bounced"])], delay=0)

    simulator.wait_idle(1)
    simulator.wait_idle(1)

    assert [e["detail"]["mail"]["messageId"] for e in got] == ["m-1"]
