"""Sending email through SES (v2 API), with failures sorted into "retry" and "give up"."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from newsroom.emails import Email

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# Worth another try later: throttling, quotas that refill, SES-side failures.
_TRANSIENT = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "ThrottlingException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "SendingPausedException",
    }
)


class TransientMailError(Exception):
    """Sending failed for now; the same email may go through later."""


class PermanentMailError(Exception):
    """SES refused this email for good (a rejected address, an unverified sender)."""


class Mailer(Protocol):
    def send(self, email: Email, *, sender: str) -> str: ...


@cache
def _client() -> SESV2Client:
    import boto3
    from botocore.config import Config

    from newsroom.deadline import refuse_late_attempts

    # An attempt takes at most 3 s (botocore's default is 60 s each, as long as the function),
    # so the first fits in the time an email is given (`newsroom.notifications.SEND_TIME`); one
    # that cannot end before the invocation's deadline is not started, and the email is left
    # for the stream's retry (a transient failure).
    config = Config(
        connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 3}
    )
    return refuse_late_attempts(boto3.client("sesv2", config=config))


class SesMailer:
    """Sends one email as SES Raw content (text and HTML parts, our own headers), with the
    `configuration_set` whose event destination publishes its delivery events (none: no
    events, as in the local run, where the template's set does not exist)."""

    def __init__(self, client: SESV2Client | None = None, *, configuration_set: str = "") -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, email: Email, *, sender: str) -> str:
        """Send `email`; SES's message id.

        Raises
        ------
        TransientMailError, PermanentMailError
        """
        client = self._client or _client()
        request: Any = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [email.to]},
            "Content": {"Raw": {"Data": email.to_mime(sender)}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = client.send_email(**request)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            # An answer naming no error type (a 503 from the front end, say) has the status
            # as its code: judge it by the status, as botocore's retries do.
            if code in _TRANSIENT or status == 429 or status >= 500:
                raise TransientMailError(code or str(status)) from exc
            raise PermanentMailError(code or "rejected") from exc
        except BotoCoreError as exc:
            raise TransientMailError(type(exc).__name__) from exc
        return str(response.get("MessageId", ""))
