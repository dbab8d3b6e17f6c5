"""SES's delivery events through the local run: mail to the mailbox simulator's addresses
yields the events SES would publish (`newsroom_tools.mailbox_simulator`), which
DeliveryEventsFunction records on the ledger; a permanent bounce or a complaint suppresses the
address, so that its next notification is not sent and is recorded as suppressed. The email
log (GET /admin/emails, signed as API Gateway's AWS_IAM wants) lists each by its status, and
`newsroom emails unsuppress` lets an address be written to again.

The tests share one local run: each leaves the simulator's addresses unsuppressed, as it found
them, so they run in any order."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime
from io import StringIO
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
import pytest

from newsroom.data.delivery import message_key, subscriber_item_key
from newsroom.data.notifications import NotificationTable
from newsroom.privacy import email_hash, subscriber_key
from newsroom.secrets import read_keyring
from newsroom_tools.cli import main as cli_main
from newsroom_tools.runner import LocalSystem
from tests.http_client import Reply, request, signed_request
from tests.local_runs import (
    BOUNCE,
    COMPLAINT,
    HELD_SLUG,
    SUCCESS,
    mailbox_simulator_system,
    post_held,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

SLUG = HELD_SLUG


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with mailbox_simulator_system() as running:
        yield running


def db(system: LocalSystem) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=system.emulator_url, region_name="us-east-1")


def table(system: LocalSystem) -> str:
    return system.table_names["ContentTable"]


def post_held_comment(system: LocalSystem) -> str:
    """A first comment from a new address: held, so every moderator is asked about it; the
    unique text it carries."""
    return post_held(system)[0]


def admin_get(system: LocalSystem, path: str) -> Reply:
    """A GET of the admin API signed with SigV4, as an IAM caller sends it (locally any access
    key with the secret ``testing``); unsigned, the local gateway answers 403."""
    return signed_request(f"{system.api_url}{path}")


def email_log(system: LocalSystem, status: str) -> dict[str, dict[str, Any]]:
    """The log's emails with `status` (its first page of 100), by SES's message id (the
    suppressed, which SES never saw, by their position)."""
    reply = admin_get(system, f"/admin/emails?status={status}&limit=100")
    assert reply.status == 200, reply.text
    items = reply.json()["items"]
    return {item["ses_message_id"] or f"{status}-{n}": item for n, item in enumerate(items)}


def newsroom(*argv: str) -> tuple[int, str]:
    """Run the `newsroom` command: (its exit code, what it printed)."""
    printed = StringIO()
    with redirect_stdout(printed):
        code = cli_main(list(argv))
    return code, printed.getvalue()


def unsuppress(system: LocalSystem, address: str) -> tuple[int, str]:
    return newsroom(
        "emails",
        "unsuppress",
        "--local",
        "--emulator-port",
        str(system.emulator_port),
        "--table",
        table(system),
        "--parameter",
        os.environ["SECRET_PARAMETER_NAME"],  # the local run's environment
        "--email",
        address,
    )


@pytest.fixture
def unsuppressed_after(system: LocalSystem) -> Iterator[None]:
    """Leave the bounce and complaint addresses as the local run started them: written to."""
    yield
    for address in (BOUNCE, COMPLAINT):
        assert unsuppress(system, address)[0] == 0


def is_suppressed(system: LocalSystem, address: str) -> bool:
    keys = read_keyring(os.environ["SECRET_PARAMETER_NAME"])
    ledger = NotificationTable(table(system), db(system))
    return ledger.suppressed([email_hash(key, address) for key in keys.all])


def sent_to(system: LocalSystem, address: str, text: str) -> list[str]:
    """The SES message ids of the emails to `address` whose text has `text`."""
    assert system.outbox is not None
    return [e.id for e in system.outbox.emails(to=address) if text in (e.text or "")]


def ledger_entry(system: LocalSystem, message_id: str) -> dict[str, Any]:
    """The ledger entry of an email, found as the delivery events function finds it."""
    pointer = db(system).get_item(TableName=table(system), Key=message_key(message_id))["Item"]
    key = {"pk": pointer["ledger_key"], "sk": {"S": "SENT"}}
    return dict(db(system).get_item(TableName=table(system), Key=key)["Item"])


def ledger_states(system: LocalSystem) -> dict[str, str]:
    """Every ledger entry's state (the ledger knows recipients by keyed hash only)."""
    page = db(system).scan(TableName=table(system), ConsistentRead=True)
    return {
        item["pk"]["S"]: item["state"]["S"]
        for item in page["Items"]
        if item.get("type") == {"S": "sent_email"}
    }


def test_bounce_and_complaint_suppress_the_address_and_its_next_email_is_not_sent(
    system: LocalSystem, unsuppressed_after: None
) -> None:
    # Given the complaining address confirmed reply notices
    keys = read_keyring(os.environ["SECRET_PARAMETER_NAME"])  # the local run's environment
    subscribed = subscriber_key(keys.current, COMPLAINT)
    NotificationTable(table(system), db(system)).confirm_subscriber(
        subscribed, at=datetime.now(UTC)
    )

    # When a held comment asks the three moderators, and SES's events for the emails come
    first = post_held_comment(system)

    # Then each got the email, and its ledger entry records what SES said of it
    (bounced,) = sent_to(system, BOUNCE, first)
    (complained,) = sent_to(system, COMPLAINT, first)
    (delivered,) = sent_to(system, SUCCESS, first)
    assert ledger_entry(system, bounced)["delivery"] == {"S": "bounced:permanent"}
    assert ledger_entry(system, complained)["delivery"] == {"S": "complained"}
    assert ledger_entry(system, delivered)["delivery"] == {"S": "delivered"}
    assert ledger_entry(system, delivered)["ses_message_id"] == {"S": delivered}
    # and the outbox page shows it (each address's: the emulator's outbox is the whole test
    # process's, thousands of emails by the end of a suite)
    for address, message, delivery in [
        (BOUNCE, bounced, "bounced:permanent"),
        (COMPLAINT, complained, "complained"),
        (SUCCESS, delivered, "delivered"),
    ]:
        page = request(f"{system.root_url}/_local/outbox?format=json&to={quote(address)}")
        assert {item["id"]: item["delivery"] for item in page.json()}[message] == delivery
    # and the complaint ended the address's reply notices
    gone = db(system).get_item(TableName=table(system), Key=subscriber_item_key(subscribed))
    assert "Item" not in gone

    # and the email log lists each under what SES said of it, as the moderation email it was
    bounced_log, complained_log = email_log(system, "bounced"), email_log(system, "complained")
    assert (bounced_log[bounced]["delivery"], bounced_log[bounced]["kind"]) == (
        "bounced:permanent",
        "moderation",
    )
    assert bounced_log[bounced]["slug"] == SLUG
    assert complained_log[complained]["delivery"] == "complained"
    assert email_log(system, "delivered")[delivered]["delivery"] == "delivered"
    assert bounced not in email_log(system, "sent")
    assert delivered not in bounced_log

    # When the next held comment asks them
    before = ledger_states(system)
    suppressed_before = email_log(system, "suppressed")
    second, second_id = post_held(system)

    # Then only the address that neither bounced nor complained gets it; the two others'
    # emails are recorded as suppressed, not sent
    assert sent_to(system, BOUNCE, second) == []
    assert sent_to(system, COMPLAINT, second) == []
    assert len(sent_to(system, SUCCESS, second)) == 1
    new = {k: v for k, v in ledger_states(system).items() if k not in before}
    assert sorted(new.values()) == ["sent", "suppressed", "suppressed"]
    # and the log lists those two as suppressed, about that comment, with no SES id
    held_back = [
        item
        for item in email_log(system, "suppressed").values()
        if item not in suppressed_before.values()
    ]
    assert [(i["comment_id"], i["kind"], i["ses_message_id"]) for i in held_back] == [
        (second_id, "moderation", None)
    ] * 2


def test_email_log_refuses_an_unsigned_request_and_bad_parameters(system: LocalSystem) -> None:
    unsigned = request(f"{system.api_url}/admin/emails?status=bounced")
    bad_status = admin_get(system, "/admin/emails?status=opened")
    bad_limit = admin_get(system, "/admin/emails?status=sent&limit=1000")
    bad_cursor = admin_get(system, "/admin/emails?status=sent&cursor=forged.cursor")

    assert unsigned.status == 403
    assert (bad_status.status, bad_status.json()["error"]["details"][0]["field"]) == (
        422,
        "status",
    )
    assert (bad_limit.status, bad_limit.json()["error"]["details"][0]["field"]) == (422, "limit")
    assert (bad_cursor.status, bad_cursor.json()["error"]["code"]) == (400, "invalid_cursor")


def test_unsuppressed_address_gets_its_next_email(
    system: LocalSystem, unsuppressed_after: None
) -> None:
    # Given the bounce address suppressed by a bounce (of this test's email, or an earlier one)
    post_held_comment(system)
    assert is_suppressed(system, BOUNCE)

    # When an operator unsuppresses it, then tries again
    removed, said = unsuppress(system, BOUNCE.upper())  # as typed: case does not matter
    again, said_again = unsuppress(system, BOUNCE)

    # Then the first removed its suppression, and said so; the second found none
    assert (removed, again) == (0, 0)
    assert said.startswith("Suppression removed (bounce, since ")
    assert said_again.startswith("That address was not suppressed")
    assert BOUNCE not in said + said_again  # the address is never printed
    assert not is_suppressed(system, BOUNCE)

    # When the next held comment asks the moderators
    text = post_held_comment(system)

    # Then the address gets it (and it bounces again, so the log lists it as bounced)
    (sent,) = sent_to(system, BOUNCE, text)
    assert email_log(system, "bounced")[sent]["delivery"] == "bounced:permanent"
    assert is_suppressed(system, BOUNCE)


def test_emails_list_prints_the_log_by_status_and_as_json(
    system: LocalSystem, unsuppressed_after: None
) -> None:
    # Given a held comment's emails to the moderators, one of which bounced
    text = post_held_comment(system)
    bounced = sent_to(system, BOUNCE, text)
    (delivered,) = sent_to(system, SUCCESS, text)
    where = ("--local", "--emulator-port", str(system.emulator_port), "--table", table(system))

    # When the log is printed: the delivered ones as lines, everything as JSON
    code, lines = newsroom("emails", "list", *where, "--status", "delivered", "--since", "1h")
    json_code, as_json = newsroom("emails", "list", *where, "--json")

    # Then the delivered email is a line of its own, and JSON has each email once, newest first
    assert (code, json_code) == (0, 0)
    (mine,) = [line for line in lines.splitlines() if delivered in line]
    assert mine.split()[1:4] == ["delivered", "delivered", "moderation"]
    items = [json.loads(line) for line in as_json.splitlines()]
    ids = [item["ses_message_id"] for item in items if item["ses_message_id"]]
    assert {delivered, *bounced} <= set(ids)
    assert len(ids) == len(set(ids))
    assert [i["settled_at"] for i in items] == sorted(
        (i["settled_at"] for i in items), reverse=True
    )
    assert "@" not in lines + as_json


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["emails", "list", "--status", "opened"], "invalid choice"),
        (["emails", "list", "--since", "soon"], "--since"),
        (["emails", "unsuppress", "--email", "not an address"], "not an email address"),
        (["emails", "unsuppress"], "--email"),
    ],
    ids=["unknown status", "bad period", "bad address", "no address"],
)
def test_emails_commands_refuse_bad_input_with_exit_code_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(argv)

    assert exited.value.code == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("command", ["list", "unsuppress"])
def test_emails_commands_refuse_a_table_that_does_not_exist_with_exit_code_2(
    system: LocalSystem, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--local", "--emulator-port", str(system.emulator_port), "--table", "no-such-table"]
    extra = ["--email", SUCCESS, "--parameter", os.environ["SECRET_PARAMETER_NAME"]]

    code = cli_main(["emails", command, *where, *(extra if command == "unsuppress" else [])])

    assert code == 2
    assert "no table no-such-table" in capsys.readouterr().err
