"""Opaque cursors: a DynamoDB key encoded for clients and checked when it comes back."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from newsroom.errors import InvalidCursorError
from newsroom.models.common import CURSOR_MAX_LENGTH


def encode_cursor(key: Mapping[str, str]) -> str:
    """Encode the key of the last item served as a URL-safe cursor."""
    raw = json.dumps(dict(key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, fixed: Mapping[str, str], free: frozenset[str]) -> dict[str, str]:
    """Decode a cursor and check it belongs to the listing asking for it.

    Parameters
    ----------
    cursor
        What the client sent back.
    fixed
        Key attributes whose values the listing knows (its partition); they must match.
    free
        The other key attributes, which must be present as non-empty strings.

    Raises
    ------
    InvalidCursorError
        When the cursor is garbled, forged or belongs to another listing.
    """
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise InvalidCursorError("The cursor is too long.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (UnicodeError, binascii.Error, ValueError) as exc:
        raise InvalidCursorError() from exc
    if not isinstance(key, dict) or set(key) != set(fixed) | free:
        raise InvalidCursorError()
    if any(not isinstance(v, str) or not v or len(v) > 512 for v in key.values()):
        raise InvalidCursorError()
    if any(key[name] != value for name, value in fixed.items()):
        raise InvalidCursorError("The cursor belongs to another listing.")
    return key
