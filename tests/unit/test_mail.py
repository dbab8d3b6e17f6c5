"""SesMailer sends with the configuration set whose events come back as delivery events."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from newsroom.emails import Email
from newsroom.mail import SesMailer

EMAIL = Email(to="reader@example.org", subject="s", text="t", html="<p>t</p>")


def stubbed(expected: dict[str, Any]) -> tuple[Any, Stubber]:
    client = boto3.client(
        "sesv2",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stub = Stubber(client)
    stub.add_response("send_email", {"MessageId": "0102-ses-id"}, expected)
    return client, stub


@pytest.mark.parametrize("configuration_set", ["newsroom-delivery", ""])
def test_email_is_sent_with_the_configuration_set_when_there_is_one(
    configuration_set: str,
) -> None:
    expected: dict[str, Any] = {
        "FromEmailAddress": "newsroom@example.com",
        "Destination": {"ToAddresses": ["reader@example.org"]},
        "Content": ANY,
    }
    if configuration_set:
        expected["ConfigurationSetName"] = configuration_set
    client, stub = stubbed(expected)

    with stub:
        message_id = SesMailer(client, configuration_set=configuration_set).send(
            EMAIL, sender="newsroom@example.com"
        )

    stub.assert_no_pending_responses()
    assert message_id == "0102-ses-id"  # what the ledger keeps, and its events name
