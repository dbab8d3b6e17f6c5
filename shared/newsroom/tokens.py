"""Signed tokens: the links in emails, and the edit token a comment's author gets.

A link token is bound to a comment and an action, expiring, with a one-time id. It only says
"whoever holds this may do this action to this comment until then"; making it single-use is the
caller's job, with a conditional write on the token's `jti`.

An edit token is bound to one comment and says "whoever holds this wrote it": its author may
change or delete it while the edit window lasts (`newsroom.comments.edit`). Each kind is signed
under a purpose (salt) of its own, so neither is ever taken for the other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from newsroom.secrets import Keyring

LinkAction = Literal["approve", "spam", "trash", "unsubscribe", "confirm_replies"]
LINK_ACTIONS: tuple[LinkAction, ...] = get_args(LinkAction)
_SALT = "newsroom.link.v1"
_EDIT_SALT = "newsroom.edit.v1"
_PRIVACY_SALT = "newsroom.privacy.v1"


class TokenInvalidError(Exception):
    """The token was not signed with our secret, was altered, or is malformed."""


class TokenExpiredError(Exception):
    """The token is genuine but older than its lifetime."""


@dataclass(frozen=True)
class LinkClaim:
    """What a link lets its holder do."""

    slug: str
    comment_id: str
    action: LinkAction
    jti: str
    issued_at: datetime
    # The comment's revision its email showed (a link signed before links had one: 0).
    revision: int = 0


def _serializer(keys: Keyring, salt: str = _SALT) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key of the list and verifies with each of them.
    return URLSafeTimedSerializer(list(reversed(keys.all)), salt=salt)


def sign(
    keys: Keyring, *, slug: str, comment_id: str, action: LinkAction, revision: int = 0
) -> str:
    """A URL-safe token for one action on one comment as its `revision` reads, with a fresh
    one-time id, signed with the current key."""
    payload = {"s": slug, "c": comment_id, "a": action, "j": secrets.token_hex(16), "r": revision}
    return str(_serializer(keys).dumps(payload))


def verify(keys: Keyring, token: str, *, max_age_seconds: int) -> LinkClaim:
    """The claim a token makes, if it is ours (signed with any key of `keys`), unaltered and
    young enough.

    Raises
    ------
    TokenExpiredError
        Genuine but expired.
    TokenInvalidError
        Anything else wrong with it.
    """
    try:
        payload, issued_at = _serializer(keys).loads(
            token, max_age=max_age_seconds, return_timestamp=True
        )
    except SignatureExpired as exc:
        raise TokenExpiredError() from exc
    except BadSignature as exc:
        raise TokenInvalidError() from exc
    if not isinstance(payload, dict) or set(payload) - {"r"} != {"s", "c", "a", "j"}:
        raise TokenInvalidError()
    revision = payload.get("r", 0)
    if payload["a"] not in LINK_ACTIONS or type(revision) is not int or revision < 0:
        raise TokenInvalidError()
    return LinkClaim(
        slug=str(payload["s"]),
        comment_id=str(payload["c"]),
        action=payload["a"],
        jti=str(payload["j"]),
        issued_at=issued_at,
        revision=revision,
    )


@dataclass(frozen=True)
class EditClaim:
    """The comment an edit token lets its holder change or delete."""

    slug: str
    comment_id: str
    issued_at: datetime


def sign_edit(keys: Keyring, *, slug: str, comment_id: str) -> str:
    """The edit token of a comment, signed with the current key."""
    return str(_serializer(keys, _EDIT_SALT).dumps({"s": slug, "c": comment_id}))


def verify_edit(keys: Keyring, token: str) -> EditClaim:
    """The comment an edit token is for, and when it was issued, if it is ours (signed with
    any key of `keys`) and unaltered. How long it works is the caller's rule.

    Raises
    ------
    TokenInvalidError
        Anything wrong with it (a link token included).
    """
    try:
        payload, issued_at = _serializer(keys, _EDIT_SALT).loads(token, return_timestamp=True)
    except BadData as exc:  # a bad signature, or (ours, so never) a payload that is not JSON
        raise TokenInvalidError() from exc
    if not isinstance(payload, dict) or set(payload) != {"s", "c"}:
        raise TokenInvalidError()
    return EditClaim(slug=str(payload["s"]), comment_id=str(payload["c"]), issued_at=issued_at)


@dataclass(frozen=True)
class PrivacyClaim:
    """The privacy request a link from its email acts on (the request names the address)."""

    request_id: str
    kind: str
    issued_at: datetime


def sign_privacy(keys: Keyring, *, request_id: str, kind: str) -> str:
    """The token of a privacy request's link, signed with the current key under a purpose of
    its own, so that it is never taken for a moderation link nor the other way round."""
    return str(_serializer(keys, _PRIVACY_SALT).dumps({"r": request_id, "k": kind}))


def verify_privacy(keys: Keyring, token: str, *, max_age_seconds: int) -> PrivacyClaim:
    """The claim of a privacy link's token, if it is ours, unaltered and young enough.

    Raises
    ------
    TokenExpiredError, TokenInvalidError
    """
    try:
        payload, issued_at = _serializer(keys, _PRIVACY_SALT).loads(
            token, max_age=max_age_seconds, return_timestamp=True
        )
    except SignatureExpired as exc:
        raise TokenExpiredError() from exc
    except BadData as exc:
        raise TokenInvalidError() from exc
    if not isinstance(payload, dict) or set(payload) != {"r", "k"}:
        raise TokenInvalidError()
    return PrivacyClaim(request_id=str(payload["r"]), kind=str(payload["k"]), issued_at=issued_at)
