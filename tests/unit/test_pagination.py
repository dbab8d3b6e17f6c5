"""Cursors round-trip and refuse anything they did not issue."""

from __future__ import annotations

import pytest

from newsroom.data.pagination import decode_cursor, encode_cursor
from newsroom.errors import InvalidCursorError

KEY = {"pk": "ARTICLE#a", "sk": "ARTICLE", "gsi1pk": "PUBLISHED", "gsi1sk": "2026#a"}
FREE = frozenset({"pk", "sk", "gsi1sk"})


def test_cursor_round_trips() -> None:
    cursor = encode_cursor(KEY)

    assert decode_cursor(cursor, fixed={"gsi1pk": "PUBLISHED"}, free=FREE) == KEY


def test_cursor_is_opaque_and_url_safe() -> None:
    cursor = encode_cursor(KEY)

    assert "ARTICLE" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_cursor_for_another_partition_is_refused() -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(encode_cursor(KEY), fixed={"gsi1pk": "TAG#x"}, free=FREE)


@pytest.mark.parametrize(
    "key",
    [KEY | {"extra": "x"}, {k: v for k, v in KEY.items() if k != "sk"}, KEY | {"sk": ""}],
    ids=["extra-key", "missing-key", "empty-value"],
)
def test_cursor_with_the_wrong_keys_is_refused(key: dict[str, str]) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(encode_cursor(key), fixed={"gsi1pk": "PUBLISHED"}, free=FREE)


@pytest.mark.parametrize("cursor", ["%%%", "é", "", "AAAA", "e30"])
def test_garbled_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, fixed={"gsi1pk": "PUBLISHED"}, free=FREE)
