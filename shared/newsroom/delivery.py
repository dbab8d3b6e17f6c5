"""SES's delivery events: each recorded on the ledger entry of the email it is about, and a
permanent bounce or a complaint suppresses the address (docs/notifications.md).

An event is matched to the email by the message id SES returned when it was sent
(`newsroom.data.delivery`'s ``SESMSG#`` pointer); SES replaces our own Message-ID header. An
event for a message the table does not know (older than the ledger's retention, or another
sender's mail on the same configuration set) is logged and ignored, never failed: a failure
would only be retried and land in the dead-letter queue. A malformed event raises
`MalformedDeliveryEventError`, so that it ends in the dead-letter queue to be looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from newsroom.models.delivery import SesDeliveryEvent
from newsroom.observability import logger
from newsroom.privacy import email_hash, normalise_email, subscriber_key

if TYPE_CHECKING:
    from newsroom.data.delivery import DeliveryTable
    from newsroom.secrets import Keyring

Result = Literal["recorded", "ignored"]

_STATES = {
    "Email Delivered": "delivered",
    "Email Complaint Received": "complained",
    "Email Rejected": "rejected",
    "Email Delivery Delayed": "delayed",
}


class MalformedDeliveryEventError(ValueError):
    """Not an SES delivery event this function can read."""


@dataclass(frozen=True)
class Outcome:
    delivery: str  # what the ledger entry records
    suppress: tuple[str, ...] = ()  # addresses never to be sent to again
    reason: str = ""  # why: "bounce" or "complaint"


def outcome(event: SesDeliveryEvent) -> Outcome:
    """What an event means for the ledger and for suppression: a permanent bounce suppresses
    the bounced addresses, a complaint the complaining ones; a transient (or undetermined)
    bounce, a delay, a rejection or a delivery only record their state."""
    detail = event.detail
    if event.detail_type == "Email Bounced":
        if detail.bounce is None:
            raise MalformedDeliveryEventError("a bounce event without its bounce")
        kind = detail.bounce.bounce_type
        addresses = tuple(r.email_address for r in detail.bounce.bounced_recipients)
        if kind == "Permanent":
            return Outcome("bounced:permanent", addresses, "bounce")
        return Outcome(f"bounced:{kind.lower()}")
    if event.detail_type == "Email Complaint Received":
        if detail.complaint is None:
            raise MalformedDeliveryEventError("a complaint event without its complaint")
        addresses = tuple(r.email_address for r in detail.complaint.complained_recipients)
        return Outcome("complained", addresses, "complaint")
    return Outcome(_STATES[event.detail_type])


def parse(event: Mapping[str, Any]) -> SesDeliveryEvent:
    """The event, validated.

    Raises
    ------
    MalformedDeliveryEventError
    """
    try:
        return SesDeliveryEvent.model_validate(event)
    except ValidationError as exc:
        raise MalformedDeliveryEventError(
            f"not an SES delivery event: {exc.error_count()} error(s)"
        ) from None


def handle_event(
    event: Mapping[str, Any],
    *,
    table: DeliveryTable,
    keys: Callable[[], Keyring],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Result:
    """Record one SES event; ``ignored`` when it is about a message the table does not know.

    Raises
    ------
    MalformedDeliveryEventError
    """
    parsed = parse(event)
    result = outcome(parsed)
    message_id = parsed.detail.mail.message_id
    ledger_key = table.ledger_key_of(message_id)
    if ledger_key is None:
        logger.warning(
            "delivery event for an unknown message; ignored",
            detail_type=parsed.detail_type,
            message_id=message_id,
        )
        return "ignored"
    now = clock()
    if not table.record_delivery(ledger_key, result.delivery, message_id=message_id, at=now):
        logger.info(
            "delivery state not recorded (entry gone or sent again, or a weaker event)",
            delivery=result.delivery,
            key=ledger_key,
        )
    if result.suppress:
        keyring = keys()
        for address in dict.fromkeys(normalise_email(a) for a in result.suppress):
            table.suppress(email_hash(keyring.current, address), reason=result.reason, at=now)
            if result.reason == "complaint":
                table.end_subscriptions([subscriber_key(key, address) for key in keyring.all])
        logger.info(
            "addresses suppressed", reason=result.reason, count=len(result.suppress), key=ledger_key
        )
    return "recorded"


def from_settings() -> tuple[DeliveryTable, Callable[[], Keyring]]:
    """The table and keyring of the deployed function, from its environment."""
    from newsroom.config import delivery_settings
    from newsroom.data.delivery import DeliveryTable
    from newsroom.secrets import project_keys

    settings = delivery_settings()
    return DeliveryTable(settings.content_table_name), lambda: project_keys(
        settings.secret_parameter_name
    )
