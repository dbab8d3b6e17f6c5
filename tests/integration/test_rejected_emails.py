"""Emails SES refuses are counted as EmailsRejected, the metric EmailsRejectedAlarm watches:
an SES Reject event through the delivery events function, and a privacy link SES refuses at
once through the comments function (the notifications function's are in test_notifications).
Each is logged too, by message id or SES's error code, never by the address."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions.comments.app import lambda_handler as comments_handler
from functions.delivery.app import lambda_handler as delivery_handler
from newsroom.data.notifications import NotificationTable
from tests.apigw import EVENTS_DIR, LambdaContext, invoke, rest_event
from tests.integration.comments_api import form, fresh_ip
from tests.integration.notifications_stream import addressed_to, ses_fault
from tests.integration.test_notifications import metric_total

pytestmark = pytest.mark.integration

SES_EVENT_FILES = sorted(EVENTS_DIR.glob("ses_*.json"))


@pytest.mark.parametrize("path", SES_EVENT_FILES, ids=lambda path: Path(path).name)
def test_only_a_reject_event_counts_a_rejected_email(
    path: Path,
    content_table: str,
    unique: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given an email in the ledger, sent as the event file's message id (made unique)
    event = json.loads(path.read_text())
    message_id = f"{event['detail']['mail']['messageId']}-{unique}"
    event["detail"]["mail"]["messageId"] = message_id
    ledger = NotificationTable(content_table)
    key = f"SENT#c-{unique}#moderation#recipient"
    now = datetime.now(UTC)
    assert ledger.claim(key, now=now, lease=timedelta(seconds=30))
    ledger.settle(key, "sent", detail=message_id, message_id=message_id, now=now)
    capsys.readouterr()

    # When the delivery events function handles SES's event about it
    result = delivery_handler(event, LambdaContext())

    # Then a rejection, and only a rejection, is counted for the alarm, and logged by its id
    assert result == {"result": "recorded"}
    rejected = event["detail-type"] == "Email Rejected"
    assert metric_total(capsys.readouterr().out, "EmailsRejected") == (1 if rejected else 0)
    warned = [r for r in caplog.records if "rejected an email" in r.getMessage()]
    assert [getattr(r, "message_id", None) for r in warned] == ([message_id] if rejected else [])
    for address in event["detail"]["mail"]["destination"]:
        assert address not in caplog.text


def test_a_privacy_link_ses_refuses_is_counted_and_logged_by_its_code_only(
    content_table: str,
    unique: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a reader's address, and SES refusing to send from an unverified sender
    address = str(form(unique)["author_email"])
    event = rest_event(
        "POST",
        "/privacy/requests",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": address, "kind": "export"}),
        source_ip=fresh_ip(),
    )
    capsys.readouterr()

    # When the reader asks for a copy of their comments
    with ses_fault(addressed_to(address), answer=(400, "MessageRejected")) as fault:
        answer = invoke(comments_handler, event)

    # Then the answer is the same as ever (it tells nobody whether the address is known)
    assert fault.failed
    assert answer.status == 202, answer.body
    # And the refusal is counted for the alarm, and logged with SES's code, not the address
    assert metric_total(capsys.readouterr().out, "EmailsRejected") == 1
    refused = [r for r in caplog.records if r.getMessage() == "email refused for good"]
    assert [getattr(r, "cause", None) for r in refused] == ["MessageRejected"]
    assert address not in caplog.text
