"""Opaque cursors: a DynamoDB key, signed, for clients, and checked when it comes back.

A cursor is ``<payload>.<signature>``: the payload is the key of the last item served as
URL-safe base64 of compact JSON, the signature an HMAC-SHA256 of it keyed with the project's
keyring (`newsroom.secrets`). Signed with the current key, checked against each key of the
ring, so cursors survive a key rotation. A start key a client made up never reaches DynamoDB
(which refuses one outside a listing's range with a `ValidationException`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsroom.errors import InvalidCursorError
from newsroom.models.common import CURSOR_MAX_LENGTH

if TYPE_CHECKING:
    from newsroom.secrets import Keyring

# Keeps a cursor's signature apart from every other use of the project's key.
_PURPOSE = b"newsroom listing cursor\n"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, _PURPOSE + payload.encode("ascii"), hashlib.sha256).digest())


@dataclass(frozen=True)
class CursorSigner:
    """Makes the cursors of listings and reads them back.

    `keys` is called only when a cursor is made or read, so a listing that needs none never
    reads the project's keys (an SSM call on a cold container).
    """

    keys: Callable[[], Keyring]

    def encode(self, key: Mapping[str, str]) -> str:
        """The cursor for a page that starts after the item with this `key`."""
        payload = _b64(json.dumps(dict(key), separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{_signature(self.keys().current, payload)}"

    def decode(
        self, cursor: str, *, fixed: Mapping[str, str], free: frozenset[str]
    ) -> dict[str, str]:
        """The key a cursor holds, once checked: signed by this API, for this listing.

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
        payload, dot, signature = cursor.partition(".")
        if not dot or not payload.isascii() or not signature.isascii():
            raise InvalidCursorError()
        if not any(
            hmac.compare_digest(signature, _signature(secret, payload))
            for secret in self.keys().all
        ):
            raise InvalidCursorError()
        try:
            key = json.loads(_unb64(payload))
        except (UnicodeError, binascii.Error, ValueError) as exc:
            raise InvalidCursorError() from exc
        if not isinstance(key, dict) or set(key) != set(fixed) | free:
            raise InvalidCursorError()
        if any(not isinstance(v, str) or not v or len(v) > 512 for v in key.values()):
            raise InvalidCursorError()
        if any(key[name] != value for name, value in fixed.items()):
            raise InvalidCursorError("The cursor belongs to another listing.")
        return key
