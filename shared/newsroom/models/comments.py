"""Comment shapes: the reader's form, what is stored, what readers and moderators are served."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    WithJsonSchema,
)

from newsroom.models.common import Slug, UtcDatetime

# WordPress's column sizes (wp_comments): name 245, email 100, URL 200, text 65,525.
NAME_MAX = 245
EMAIL_MAX = 100
URL_MAX = 200
BODY_MAX = 65_525
MAX_DEPTH = 5

COMMENT_ID_PATTERN = r"^c[0-9a-f]{20}$"
# GET /form-token's token (newsroom.form_time): issued at (13 digits of ms), a base64url HMAC.
FORM_TOKEN_PATTERN = r"^[0-9]{13}\.[A-Za-z0-9_-]{43}$"  # noqa: S105 (a pattern)
FORM_TOKEN_LENGTH = 57
CommentId = Annotated[str, Field(pattern=COMMENT_ID_PATTERN, examples=["c0193a4c2d8e1f2a3b4c5"])]
CommentStatus = Literal["approved", "pending", "spam", "trash"]
ModerationAction = Literal["approve", "spam", "trash"]
ACTION_STATUS: dict[str, CommentStatus] = {
    "approve": "approved",
    "spam": "spam",
    "trash": "trash",
}


# Joiners that writing needs: ZWNJ and ZWJ shape Persian and Indic words and join emoji
# sequences. Every other format character (bidi controls, zero widths, tags) is removed.
JOINERS = "\u200c\u200d"
# An emoji tag sequence (a subdivision flag such as England's) is kept whole: its tag
# characters are format characters too, and hide text anywhere else.
_FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def _cleaned(keep: str) -> BeforeValidator:
    """Remove control and format characters (except `keep` and subdivision flags), unify
    newlines, then trim."""

    def clean(value: object) -> object:
        if not isinstance(value, str):
            return value
        value = re.sub(r"\r\n?", "\n", value)
        kept: list[str] = []
        position = 0
        for flag in _FLAG_TAGS.finditer(value):
            kept.append(_without_invisible(value[position : flag.start()], keep))
            kept.append(flag.group())
            position = flag.end()
        kept.append(_without_invisible(value[position:], keep))
        return "".join(kept).strip()

    return BeforeValidator(clean)


def _without_invisible(text: str, keep: str) -> str:
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in _INVISIBLE)


# Cc: control characters (NUL, BEL, ESC, ...); Cf: format characters (RTL overrides, zero
# widths) that can disguise text; Cs: lone surrogates. Private-use characters stay.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
# Letters and symbols that draw nothing: Hangul fillers, the braille blank, Khmer inherent
# vowels, the combining grapheme joiner, and the joiners themselves.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u034f\u180e" + JOINERS)
# Categories that show something on their own (not spaces, not combining marks alone).
# Private-use characters draw a site's icon font; unassigned ones may be a script newer than
# this Python's Unicode tables (Lambda's Python is newer than a developer's): both count.
_VISIBLE_CATEGORIES = ("L", "N", "P", "S", "Co", "Cn")


def has_visible_text(text: str) -> bool:
    """Whether `text` draws at least one character (a letter, digit, punctuation or symbol
    that is not a blank look-alike such as the Hangul filler or the braille blank)."""
    return any(
        ch not in _BLANK and unicodedata.category(ch).startswith(_VISIBLE_CATEGORIES) for ch in text
    )


def _visible(value: str) -> str:
    if not has_visible_text(value):
        raise ValueError("must contain visible text")
    return value


def _empty_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _at_most(limit: int, value: object) -> object:
    if isinstance(value, str) and len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return value


# One DNS label: letters, digits and inner hyphens, at most 63 characters (RFC 1123).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _hostname_or_address(host: str) -> bool:
    """A public host name (two labels or more, the last not all digits) or an IP address, as
    the URL parser left it (lowercase, internationalised names in punycode)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return True
    labels = host.removesuffix(".").split(".")
    return (
        len(host) <= 253
        and len(labels) >= 2
        and all(_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _website(url: HttpUrl | None) -> HttpUrl | None:
    if url is None:
        return None
    if url.scheme not in ("http", "https"):
        raise ValueError("must be an http or https address")
    if not _hostname_or_address(url.host or ""):
        raise ValueError("must name a host such as example.org")
    return url


# The addresses nearly every reader types: ASCII, a dot-atom of letters, digits and _ + - before
# the @, a host name with a top-level domain of letters after it. Each is an address the email
# validator accepts, normalised by lowering its domain (tests/unit/test_email_fast_path.py checks
# both on generated addresses), so it is answered without loading the validator, whose import
# compiles its RFC patterns: some 30 ms of a POST's cold start. Anything else goes to it.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
# email_validator.SPECIAL_USE_DOMAIN_NAMES, which it refuses (a test keeps the two equal).
SPECIAL_USE_DOMAINS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def plain_email(value: str) -> str | None:
    """`value` normalised as the email validator would, when it is a plain ASCII address (see
    `_PLAIN_EMAIL`); None for anything that needs the validator's judgement."""
    found = _PLAIN_EMAIL.fullmatch(value)
    if found is None or len(value) > 254 or len(found["local"]) > 64:
        return None
    domain = found["domain"].lower()
    # "ab--c" is refused unless it is Punycode, which needs the validator's IDNA check.
    if "--" in domain or domain.rsplit(".", 1)[-1] in SPECIAL_USE_DOMAINS:
        return None
    return f"{found['local']}@{domain}"


def _email_address(value: str) -> str:
    """What `EmailStr` makes of a value (pydantic's own check, "Name <address>" forms
    included), with the email validator loaded only for an address that is not plain (see
    `plain_email`), rather than when this module is: it compiles its RFC patterns on import."""
    plain = plain_email(value)
    if plain is not None:
        return plain
    from pydantic.networks import validate_email

    return validate_email(value)[1]


def _deliverable(email: str) -> str:
    """The address as SES can send to it: the domain in ASCII (punycode); an address whose
    part before the @ is not ASCII is refused, as SES cannot deliver to it."""
    if plain_email(email) == email:
        return email  # ASCII already
    from email_validator import EmailNotValidError, validate_email

    try:
        ascii_email = validate_email(email, check_deliverability=False).ascii_email
    except EmailNotValidError as exc:  # EmailStr accepted it: not expected
        raise ValueError("must be an email address") from exc
    if ascii_email is None:
        raise ValueError("the part before @ must be ASCII: mail to this address cannot be sent")
    return str(ascii_email)


# Control characters (and format characters such as RTL overrides) are removed before the
# length rule, which counts what is left after trimming.
AuthorName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX),
    AfterValidator(_visible),
    _cleaned(JOINERS),
]
AuthorEmail = Annotated[
    str,
    AfterValidator(_email_address),
    AfterValidator(_deliverable),
    WithJsonSchema({"type": "string", "format": "email"}),
    BeforeValidator(partial(_at_most, EMAIL_MAX)),
    _cleaned(""),
]
AuthorUrl = Annotated[
    HttpUrl | None,
    AfterValidator(_website),
    BeforeValidator(partial(_at_most, URL_MAX)),
    BeforeValidator(_empty_is_none),
]
CommentText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=BODY_MAX),
    AfterValidator(_visible),
    _cleaned("\n\t" + JOINERS),
]


class CommentIn(BaseModel):
    """The "Leave a Reply" form, as JSON."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    author_name: AuthorName
    author_email: AuthorEmail = Field(description="Never published.")
    author_url: AuthorUrl = None
    body: CommentText
    parent_id: CommentId | None = None
    # Strict: JSON's true or false only, not 0, 1 or "yes" (lax mode would take them).
    notify_replies: bool = Field(
        default=False,
        strict=True,
        description=(
            "Email me when someone replies to this comment. Double opt-in: once the comment is "
            "public, an address that has not confirmed gets one email asking it to (at most one "
            "per address per 7 days, with nothing from the comment in it), and no reply notice "
            "before it confirms by that email's link."
        ),
    )
    phone: str | None = Field(
        default=None,
        max_length=200,
        description="Honeypot: the form hides this field from people; leave it empty.",
    )
    altcha: str | None = Field(
        default=None,
        max_length=4096,
        description="The solved challenge of GET /challenge (ALTCHA's base64 payload), when "
        "the API requires one; ignored otherwise.",
    )
    form_token: str | None = Field(
        default=None,
        max_length=FORM_TOKEN_LENGTH,
        pattern=FORM_TOKEN_PATTERN,
        description="The token of GET /form-token, fetched when the form was loaded, when the "
        "API asks for a minimum time between loading the form and posting; ignored otherwise.",
    )


class CommentAccepted(BaseModel):
    """The answer to a post: spam is answered exactly like a held comment."""

    model_config = ConfigDict(defer_build=True)

    id: CommentId
    status: Literal["approved", "pending"]
    edit_token: str = Field(
        description="Send as `Authorization: Bearer <edit_token>` to edit or delete this "
        "comment until `editable_until`. Opaque; keep it as the comment's author's secret."
    )
    editable_until: datetime = Field(
        description="When editing and deleting this comment end (ISO 8601, UTC); earlier "
        "once someone replies to it."
    )


class FormToken(BaseModel):
    """GET /form-token: the token a comment posted from this form carries (form_token)."""

    model_config = ConfigDict(defer_build=True)

    token: str = Field(
        pattern=FORM_TOKEN_PATTERN,
        description="Send as the comment's form_token. Opaque; valid for 24 hours, for any "
        "number of comments.",
    )
    minimum_seconds: int = Field(
        ge=1,
        description="A comment posted sooner than this after the token was issued is held for "
        "moderation.",
    )


class CommentEdit(BaseModel):
    """A new text for one's own comment: every rule of a new comment's text applies."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    body: CommentText


class CommentEdited(BaseModel):
    """The answer to an edit: judged again, a comment held or marked as spam is answered as
    held."""

    model_config = ConfigDict(defer_build=True)

    id: CommentId
    status: Literal["approved", "pending"]
    editable_until: datetime


class PublicComment(BaseModel):
    """A comment as any reader sees it: nothing here identifies the commenter beyond the name
    and website they chose to show."""

    model_config = ConfigDict(defer_build=True)

    id: CommentId
    parent_id: CommentId | None
    depth: int = Field(ge=1, le=MAX_DEPTH)
    author_name: str
    author_url: str | None
    avatar: str = Field(description="An identicon seed: a keyed hash, not the email's MD5.")
    body_html: str
    created_at: datetime


class FeedComment(PublicComment):
    """An approved comment as a feed entry shows it: the public comment, its article, and when
    it last changed (approved by a moderator, or edited by its author: its verdict's time)."""

    slug: Slug
    updated_at: datetime


class CheckRecord(BaseModel):
    """One content check's verdict on a comment (newsroom.content_checks)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    outcome: str = Field(description="ok, hold, spam, discard, failed or timed_out.")
    reason: str = ""


class Moderation(BaseModel):
    """Why the policy (or a moderator) decided a comment's status."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    rule: str
    keyword: str | None = None
    explanation: str
    by: str = "policy"
    at: UtcDatetime | None = None
    edited_at: UtcDatetime | None = Field(
        default=None, description="When its author last edited the text this verdict is on."
    )
    # Empty on comments no content check ran on (and on those stored before checks existed).
    checks: tuple[CheckRecord, ...] = ()


class StoredComment(BaseModel):
    """The comment item as kept in the content table."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: CommentId
    slug: Slug
    parent_id: CommentId | None = None
    # The comment answered: the parent, except for a reply at the deepest level, which is
    # stored as that comment's sibling (None on comments stored before this was kept).
    in_reply_to: CommentId | None = None
    depth: int = Field(ge=1, le=MAX_DEPTH)
    path: str
    author_name: str
    author_email: str
    author_url: str | None = None
    body_markdown: str
    body_html: str
    created_at: UtcDatetime
    status: CommentStatus
    moderation: Moderation
    notify_replies: bool = False
    # The sender's IP hash is not kept here but in its own item, which expires (SenderData).
    avatar: str
    commenter: str
    duplicate_key: str
    # The keyed hash of the normalised email (`privacy.email_hash`), by which every comment of
    # an address is found (the author index); None on comments stored before it was kept.
    author_key: str | None = None
    # Edits by its author (docs/api.md): how many, and the last one's time.
    revision: int = Field(default=0, ge=0)
    edited_at: UtcDatetime | None = None
    # Replies stored under it (its children, and at the deepest level the siblings that
    # answer it), whatever their status: while there is one, its author can no longer
    # change or delete it.
    replies: int = 0
    # When its author's data was removed at their request (a comment with replies keeps its
    # place, with no name, address or text of theirs); its edit token no longer works.
    erased_at: UtcDatetime | None = None
    # Where an imported comment came from (``wordpress:<site>#<comment id>``, ``disqus:...``):
    # its insert is history, not news, so it notifies no one (`newsroom.notifications.plan`
    # and the stream's filter in template.yaml); None for a comment posted here.
    imported_from: str | None = Field(default=None, max_length=2048)

    @property
    def answered_id(self) -> str | None:
        """The comment this one answers (whose author hears of it), if it is a reply."""
        return self.in_reply_to or self.parent_id

    def to_public(self) -> PublicComment:
        # Only the public model's fields are copied: it has none that must never leave.
        return PublicComment.model_validate(
            self.model_dump(include=set(PublicComment.model_fields))
        )


class SenderData(BaseModel):
    """What a comment's sender left besides the comment, kept for moderation for a limited time
    (SENDER_DATA_RETENTION_DAYS): an item of its own, beside the comment, which the table's TTL
    deletes whole at `expires_at` (docs/data-model.md). The user agent is only read when the
    comment is judged, never kept, unless Akismet judged it: then what Akismet was sent (IP,
    user agent, author fields, text: `newsroom.akismet_check`) is kept here, for telling
    Akismet of a moderator's decision against its verdict."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    ip_hash: str
    expires_at: UtcDatetime
    akismet: dict[str, str] | None = None


class AnsweredDuplicate(BaseModel):
    """A post answered as a held comment and not stored, because it repeated one stored before
    or a content check said to discard it: kept until its edit window ends, so that its edit
    token works as a held comment's does (an edit takes the flood guards; the token never
    tells them apart)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: CommentId
    slug: Slug
    author_email: str
    created_at: UtcDatetime


class AdminComment(PublicComment):
    """A comment as a moderator sees it in a queue: as it is (or would be) published, with the
    email and why it has its status. The source Markdown is kept for re-rendering, not
    listed (the queue's index does not carry it)."""

    slug: Slug
    status: CommentStatus
    author_email: str
    moderation: Moderation
    notify_replies: bool


class StatusChange(BaseModel):
    """The answer to a moderation action."""

    model_config = ConfigDict(defer_build=True)

    id: CommentId
    slug: Slug
    status: CommentStatus
    previous_status: CommentStatus
