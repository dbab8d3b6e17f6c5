"""Form tokens for the minimum time between loading the comment form and posting it: the time a
token was issued and an HMAC of it, so a comment tells how long its form was open. Imported
only when the setting (`minimum_form_seconds`) is on.

A token is ``<issued at, ms since the epoch>.<HMAC-SHA256, base64url>``, signed with the
keyring's current key under a purpose of its own (never taken for any other signature of the
project's) and verified with each key of the keyring, so a key rotation refuses none. It is not
single-use: it says only "this form was loaded then", and the widget keeps it for every
comment posted from that page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

from newsroom.errors import FormTokenError
from newsroom.models.comments import FORM_TOKEN_PATTERN
from newsroom.secrets import Keyring

FORM_TOKEN_LIFETIME = timedelta(hours=24)
_PURPOSE = b"newsroom.form-token.v1"
_TOKEN = re.compile(FORM_TOKEN_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _signature(key: bytes, issued_ms: int) -> str:
    mac = hmac.new(key, _PURPOSE + b"\x1f" + str(issued_ms).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def issue(keys: Keyring, *, now: datetime) -> str:
    """A form token issued `now`, signed with the current key."""
    issued_ms = (now - _EPOCH) // _MILLISECOND
    return f"{issued_ms}.{_signature(keys.current, issued_ms)}"


def issued_at(keys: Keyring, token: str | None, *, now: datetime) -> datetime:
    """When a form token was issued, if it is ours (signed with any key of `keys`), unaltered
    and younger than `FORM_TOKEN_LIFETIME`.

    Raises
    ------
    FormTokenError
        Missing, not a token this API issued (altered, another key's, not a token at all),
        or expired.
    """
    if not token:
        raise FormTokenError("missing")
    if not _TOKEN.fullmatch(token):
        raise FormTokenError("invalid")
    issued_text, signature = token.split(".")
    issued_ms = int(issued_text)
    if not any(hmac.compare_digest(_signature(key, issued_ms), signature) for key in keys.all):
        raise FormTokenError("invalid")
    issued = _EPOCH + issued_ms * _MILLISECOND
    if now - issued > FORM_TOKEN_LIFETIME:
        raise FormTokenError("expired")
    return issued


def seconds_open(keys: Keyring, token: str | None, *, now: datetime) -> float:
    """How long the form of a comment posted `now` with `token` had been open, in seconds
    (never below 0: another container's clock may be a little ahead).

    Raises
    ------
    FormTokenError
        As `issued_at`.
    """
    return max((now - issued_at(keys, token, now=now)).total_seconds(), 0.0)
