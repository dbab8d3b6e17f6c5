"""The functions' structured logs never carry a reader's or a moderator's email address or IP:
a realistic flow through the local run (a held comment asking for reply notices, its
moderation, a held reply, their emails, a moderator's address bouncing, a privacy request) is
logged at DEBUG, each record as Powertools prints it in Lambda, and none holds any of them,
nor does any warning another library logs, nor the metrics the functions print."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from newsroom import mail
from newsroom.observability import logger
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import loopback_address, request
from tests.integration.notifications_stream import addressed_to, sent_message, ses_error
from tests.integration.test_end_to_end import (
    LINK,
    SLUG,
    emails_to,
    links_in,
    local,
    moderation_email,
    press_the_button,
)
from tests.local_runs import own_table_prefix

if TYPE_CHECKING:
    from botocore.model import OperationModel

pytestmark = pytest.mark.integration

MODERATOR = "moderator@example.com"
BOUNCING_MODERATOR = "bounce@simulator.amazonses.com"  # SES's mailbox simulator: a hard bounce
REFUSED_MODERATOR = "refused-moderator@example.com"  # SES refuses to send to it (below)


class PrintedRecords(logging.Handler):
    """Each record, formatted as the function's Powertools logger prints it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    moderators = json.dumps([MODERATOR, BOUNCING_MODERATOR, REFUSED_MODERATOR])
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        parameters={"ModeratorEmails": moderators},
    ) as running:
        yield running


@pytest.fixture
def printed() -> Iterator[PrintedRecords]:
    """The functions' log records, at DEBUG (stricter than the deployed INFO)."""
    handler = PrintedRecords()
    handler.setFormatter(logger.registered_formatter)
    level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)


@pytest.fixture
def warnings_logged() -> Iterator[PrintedRecords]:
    """Every other library's warnings and errors (what Lambda's root logger prints), with
    their tracebacks."""
    handler = PrintedRecords()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@contextmanager
def ses_refuses(recipient: str) -> Iterator[list[str]]:
    """SES answers `SendEmail` to `recipient` as it does in its sandbox, MessageRejected with a
    message quoting the address; what it refused, by recipient."""
    refused: list[str] = []

    def intercept(model: OperationModel, params: dict[str, Any], **_: Any) -> Any:
        if not addressed_to(recipient)(sent_message(params)):
            return None
        refused.append(recipient)
        message = (
            "Email address is not verified. The following identities failed the check in "
            f"region US-EAST-1: {recipient}"
        )
        return ses_error(model, 400, "MessageRejected", message)

    events = mail._client().meta.events  # the functions' cached client, in this process
    events.register("before-call.sesv2.SendEmail", intercept, unique_id="tests-ses-refuses")
    try:
        yield refused
    finally:
        events.unregister("before-call.sesv2.SendEmail", unique_id="tests-ses-refuses")


def post(system: LocalSystem, source_ip: str, **fields: object) -> str:
    posted = request(
        f"{system.api_url}/articles/{SLUG}/comments",
        method="POST",
        json_body=fields,
        source_ip=source_ip,
    )
    assert posted.status == 201, posted.text
    assert posted.json()["status"] == "pending"  # a first comment from a new address is held
    return str(posted.json()["id"])


def test_no_log_record_of_a_comment_its_moderation_emails_and_a_bounce_names_anyone(
    system: LocalSystem,
    printed: PrintedRecords,
    warnings_logged: PrintedRecords,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given two readers, each with an address and an IP of their own
    unique = uuid.uuid4().hex[:8]
    parent_author, parent_ip = f"parent-{unique}@example.org", loopback_address()
    reply_author, reply_ip = f"reply-{unique}@example.org", loopback_address()

    # When the first posts a comment asking for reply notices, a moderator approves it by the
    # email's link and the reader confirms the notices, the second's invalid post is refused
    # and their reply approved, and the first asks for a copy of their data (SES refusing to
    # write to one moderator, quoting the address in its error, as in its sandbox)
    with ses_refuses(REFUSED_MODERATOR) as refused:
        flow(system, unique, parent_author, parent_ip, reply_author, reply_ip)

    # Then the emails went: the reply notice to the first reader, and the moderation
    # requests to the moderators, one of which bounced and was suppressed, one refused
    assert refused
    assert any('"addresses suppressed"' in line for line in printed.lines), printed.lines
    assert any('"cause":"MessageRejected"' in line for line in printed.lines), printed.lines
    # And no record names an address or an IP of anyone involved
    personal = [
        parent_author,
        reply_author,
        MODERATOR,
        BOUNCING_MODERATOR,
        REFUSED_MODERATOR,
        parent_ip,
        reply_ip,
    ]
    logged_by = {json.loads(line)["function_name"] for line in printed.lines}
    assert logged_by >= {"NotificationsFunction", "DeliveryEventsFunction"}  # read here
    for line in printed.lines:
        json.loads(line)  # structured: one JSON object a record
        assert not [value for value in personal if value.lower() in line.lower()], line
    for line in warnings_logged.lines:
        assert not [value for value in personal if value.lower() in line.lower()], line
    metrics = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any("EmailsRejected" in line for line in metrics)
    for line in metrics:
        assert not [value for value in personal if value.lower() in line.lower()], line


def flow(
    system: LocalSystem,
    unique: str,
    parent_author: str,
    parent_ip: str,
    reply_author: str,
    reply_ip: str,
) -> None:
    """A comment asking for reply notices, approved by the moderation email's link and the
    notices confirmed; a refused post; a reply, approved; a privacy request; the reply
    notice arrived."""
    parent = post(
        system,
        parent_ip,
        author_name=f"Parent {unique}",
        author_email=parent_author,
        body=f"A parent comment {unique}.",
        notify_replies=True,
    )
    press_the_button(local(system, links_in(moderation_email(system, unique))["approve"]))
    system.wait_for_streams()
    (confirmation,) = emails_to(system, parent_author)
    confirm = LINK.search(confirmation.text or "")
    assert confirm, confirmation.text
    assert press_the_button(local(system, confirm.group(0))).status == 200
    invalid = request(
        f"{system.api_url}/articles/{SLUG}/comments",
        method="POST",
        json_body={"author_name": "R", "author_email": reply_author, "body": ""},
        source_ip=reply_ip,
    )
    assert invalid.status == 422, invalid.text
    reply_marker = uuid.uuid4().hex[:8]
    post(
        system,
        reply_ip,
        author_name=f"Reply {unique}",
        author_email=reply_author,
        body=f"A reply {reply_marker}.",
        parent_id=parent,
    )
    press_the_button(local(system, links_in(moderation_email(system, reply_marker))["approve"]))
    system.wait_for_delivery_events()
    asked = request(
        f"{system.api_url}/privacy/requests",
        method="POST",
        json_body={"email": parent_author, "kind": "export"},
        source_ip=parent_ip,
    )
    assert asked.status == 202, asked.text
    assert [e for e in emails_to(system, parent_author) if reply_marker in (e.text or "")]
