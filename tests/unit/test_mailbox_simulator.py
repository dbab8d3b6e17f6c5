"""The local mailbox simulator: which addresses yield which SES event, in SES's shape."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from newsroom.delivery import outcome, parse
from newsroom_tools.event_filter import matches
from newsroom_tools.mailbox_simulator import MailboxSimulator, ses_event_queues, simulated_event
from newsroom_tools.template import load_template

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
    simulator = MailboxSimulator(
        lambda: sent, [({"detail-type": ["Email Bounced"]}, got.append)], delay=0
    )

    simulator.wait_idle(1)
    simulator.wait_idle(1)

    assert [e["detail"]["mail"]["messageId"] for e in got] == ["m-1"]


DOMAIN = "simulator.amazonses.com"
SET = "t-DeliveryConfigurationSet"
LOCAL_NAMES = {
    "DeliveryConfigurationSet": "t-DeliveryConfigurationSet",
    "DeliveryEventsQueue": "http://127.0.0.1:1/queue/t-DeliveryEventsQueue",
    "DeliveryEventsDeadLetterQueue": "http://127.0.0.1:1/queue/t-DeliveryEventsDeadLetterQueue",
}


def test_the_template_rule_takes_the_events_of_its_configuration_set_only() -> None:
    # Given the template's rule on SES's events, resolved to the local names
    ((pattern, queue_url),) = ses_event_queues(load_template(), LOCAL_NAMES)
    bounce = "bounce@simulator.amazonses.com"
    ours = simulated_event("m-1", "n@example.com", bounce, now=NOW, configuration_set=SET)
    theirs = simulated_event("m-2", "n@example.com", bounce, now=NOW, configuration_set="x")
    untagged = simulated_event("m-3", "n@example.com", bounce, now=NOW)

    # Then it takes only the email sent with the stack's configuration set, into its queue
    assert queue_url == LOCAL_NAMES["DeliveryEventsQueue"]
    assert [matches(pattern, e) for e in (ours, theirs, untagged)] == [True, False, False]


def test_the_simulator_puts_each_event_where_a_rule_takes_it() -> None:
    sent = [
        SimpleNamespace(id="m-1", source="n@example.com", destinations=["success@" + DOMAIN]),
        SimpleNamespace(id="m-2", source="n@example.com", destinations=["bounce@" + DOMAIN]),
    ]
    bounces: list[dict[str, Any]] = []
    everything: list[dict[str, Any]] = []
    simulator = MailboxSimulator(
        lambda: sent,
        [({"detail-type": ["Email Bounced"]}, bounces.append), ({}, everything.append)],
        configuration_set=SET,
        delay=0,
    )

    simulator.wait_idle(1)

    assert [e["detail"]["mail"]["messageId"] for e in bounces] == ["m-2"]
    assert [e["detail"]["mail"]["messageId"] for e in everything] == ["m-1", "m-2"]
    assert {tuple(e["detail"]["mail"]["tags"]["ses:configuration-set"]) for e in everything} == {
        (SET,)
    }
