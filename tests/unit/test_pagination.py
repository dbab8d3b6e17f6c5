"""Cursors round-trip, are signed with the project's key, and refuse anything they did not issue."""

from __future__ import annotations

import base64
import json

import pytest

from newsroom.data.pagination import CursorSigner
from newsroom.errors import InvalidCursorError
from newsroom.models.common import CURSOR_MAX_LENGTH
from newsroom.secrets import Keyring

KEY = {"pk": "ARTICLE#a", "sk": "ARTICLE", "gsi1pk": "PUBLISHED", "gsi1sk": "2026#a"}
FREE = frozenset({"pk", "sk", "gsi1sk"})
FIXED = {"gsi1pk": "PUBLISHED"}
OLD_KEY = b"o" * 32
NEW_KEY = b"n" * 32


def signer(current: bytes = NEW_KEY, *previous: bytes) -> CursorSigner:
    return CursorSigner(lambda: Keyring(current=current, previous=previous))


def unsigned(key: object) -> str:
    """A cursor as this API issued them before they were signed: base64 of the JSON key."""
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_cursor_round_trips() -> None:
    cursor = signer().encode(KEY)

    assert signer().decode(cursor, fixed=FIXED, free=FREE) == KEY


def test_cursor_is_opaque_and_url_safe() -> None:
    cursor = signer().encode(KEY)

    assert "ARTICLE" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_cursor_signed_before_a_key_rotation_still_works_after_it() -> None:
    # Given a cursor signed with the key that has since become the previous one
    cursor = signer(OLD_KEY).encode(KEY)

    # When it comes back once the new key is current
    key = signer(NEW_KEY, OLD_KEY).decode(cursor, fixed=FIXED, free=FREE)

    # Then it is honoured; once the old key is gone, it is not
    assert key == KEY
    with pytest.raises(InvalidCursorError):
        signer(NEW_KEY).decode(cursor, fixed=FIXED, free=FREE)


def test_well_shaped_cursor_this_api_did_not_sign_is_refused() -> None:
    # A forged start key: the right attributes, a value out of the listing's range.
    forged = unsigned(KEY | {"gsi1sk": "9999-12-31T23:59:59.999999Z#zzz"})

    with pytest.raises(InvalidCursorError):
        signer().decode(forged, fixed=FIXED, free=FREE)


def test_cursor_altered_after_signing_is_refused() -> None:
    payload, signature = signer().encode(KEY).split(".")
    altered = unsigned(KEY | {"gsi1sk": "2027#b"})

    with pytest.raises(InvalidCursorError):
        signer().decode(f"{altered}.{signature}", fixed=FIXED, free=FREE)
    with pytest.raises(InvalidCursorError):
        signer().decode(f"{payload}.{'A' * len(signature)}", fixed=FIXED, free=FREE)


def test_cursor_for_another_partition_is_refused() -> None:
    with pytest.raises(InvalidCursorError):
        signer().decode(signer().encode(KEY), fixed={"gsi1pk": "TAG#x"}, free=FREE)


@pytest.mark.parametrize(
    "key",
    [KEY | {"extra": "x"}, {k: v for k, v in KEY.items() if k != "sk"}, KEY | {"sk": ""}],
    ids=["extra-key", "missing-key", "empty-value"],
)
def test_cursor_with_the_wrong_keys_is_refused(key: dict[str, str]) -> None:
    with pytest.raises(InvalidCursorError):
        signer().decode(signer().encode(key), fixed=FIXED, free=FREE)


@pytest.mark.parametrize("cursor", ["%%%", "é", "", "AAAA", "e30", "e30.", ".AAAA", "a.b.c"])
def test_garbled_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        signer().decode(cursor, fixed=FIXED, free=FREE)


def test_longest_cursor_a_listing_issues_fits_the_cursor_limit() -> None:
    # The thread listing's: the longest slug, and a reply at depth 5 (five ids in its path).
    slug = "s" * 120
    path = "/".join(["c" + "0" * 20] * 5)
    key = {
        "pk": f"ARTICLE#{slug}",
        "sk": "COMMENT#c" + "0" * 20,
        "gsi2pk": f"THREAD#{slug}",
        "gsi2sk": path,
    }

    assert len(signer().encode(key)) <= CURSOR_MAX_LENGTH
