"""SES's delivery events as EventBridge delivers them (the parts the delivery events function
reads). Shapes: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
(the same record is the EventBridge event's ``detail``) and
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ses.html (the detail-types)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DetailType = Literal[
    "Email Delivered",
    "Email Bounced",
    "Email Complaint Received",
    "Email Rejected",
    "Email Delivery Delayed",
]


class _Part(BaseModel):
    """SES's camelCase fields, by their snake_case names here."""

    model_config = ConfigDict(defer_build=True, extra="ignore")


class SesMail(_Part):
    message_id: str = Field(alias="messageId", min_length=1)  # what SendEmail returned


class SesRecipient(_Part):
    email_address: str = Field(alias="emailAddress", min_length=3)


class SesBounce(_Part):
    bounce_type: Literal["Permanent", "Transient", "Undetermined"] = Field(alias="bounceType")
    bounce_sub_type: str = Field(alias="bounceSubType", default="")
    bounced_recipients: list[SesRecipient] = Field(alias="bouncedRecipients", min_length=1)


class SesComplaint(_Part):
    complained_recipients: list[SesRecipient] = Field(alias="complainedRecipients", min_length=1)
    complaint_feedback_type: str | None = Field(alias="complaintFeedbackType", default=None)


class SesEventDetail(_Part):
    event_type: str = Field(alias="eventType")
    mail: SesMail
    bounce: SesBounce | None = None
    complaint: SesComplaint | None = None


class SesDeliveryEvent(_Part):
    """An EventBridge event from ``aws.ses``."""

    source: Literal["aws.ses"]
    detail_type: DetailType = Field(alias="detail-type")
    detail: SesEventDetail
