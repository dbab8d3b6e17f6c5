"""The email log's shapes: a sent-email ledger entry as `GET /admin/emails` lists it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from newsroom.models.common import Slug, UtcDatetime

EmailKind = Literal[
    "moderation", "new_comment", "reply", "comment_live", "confirm_replies", "privacy_link"
]
# How its sending ended (sent, failed: refused by SES for good, suppressed: not sent to an
# address that bounced or complained), then what SES said of a sent one.
EmailStatus = Literal[
    "sent", "delivered", "bounced", "complained", "suppressed", "failed", "rejected"
]
# SES's last word on a sent email, as its delivery events say it (newsroom.delivery).
DeliveryOutcome = Literal[
    "delayed",
    "delivered",
    "bounced:transient",
    "bounced:undetermined",
    "bounced:permanent",
    "rejected",
    "complained",
]

# An SES error code (`MessageRejected`, `MailFromDomainNotVerifiedException`, an HTTP status):
# letters, digits and underscores only, so never an address or a sentence quoting one.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_]{1,64}")
UNRECOGNISED_ERROR = "unrecognised"


def error_code_of(detail: str) -> str:
    """`detail` if it is an error code, else ``unrecognised``: an error's message can quote
    the address it was sent to, and no address leaves the ledger."""
    return detail if _ERROR_CODE.fullmatch(detail) else UNRECOGNISED_ERROR


class LoggedEmail(BaseModel):
    """One email the notifications sent (or did not), as the email log lists it: what it was
    and how it ended, never to whom (the ledger holds no address)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    kind: EmailKind
    slug: Slug | None = Field(default=None, description="The article it was about, if any.")
    comment_id: str | None = Field(default=None, description="The comment it was about, if any.")
    status: EmailStatus
    delivery: DeliveryOutcome | None = Field(
        default=None, description="SES's last word on it (its delivery events), if any."
    )
    error_code: str | None = Field(
        default=None,
        description="Why SES refused it (failed only): SES's error code, never its message.",
    )
    settled_at: UtcDatetime = Field(description="When it was sent, refused or suppressed.")
    delivery_at: UtcDatetime | None = Field(
        default=None, description="When SES's last recorded event about it came."
    )
    ses_message_id: str | None = Field(default=None, description="SES's id of a sent email.")
