"""Keyed hashes: stable for the same input, different for another key, never a plain digest."""

from __future__ import annotations

import hashlib

from newsroom.privacy import avatar_key, commenter_key, duplicate_key, email_hash, ip_hash

SECRET = b"s" * 32
OTHER = b"o" * 32


def test_avatar_is_not_the_gravatar_md5_of_the_email() -> None:
    email = "ann@example.org"

    assert avatar_key(SECRET, email) != hashlib.md5(email.encode()).hexdigest()  # noqa: S324


def test_hashes_depend_on_the_secret() -> None:
    assert ip_hash(SECRET, "198.51.100.7") != ip_hash(OTHER, "198.51.100.7")
    assert avatar_key(SECRET, "a@b.c") != avatar_key(OTHER, "a@b.c")


def test_email_hashes_ignore_case_and_spaces() -> None:
    assert email_hash(SECRET, " Ann@Example.org") == email_hash(SECRET, "ann@example.org")
    assert avatar_key(SECRET, "ANN@example.org") == avatar_key(SECRET, "ann@example.org")


def test_hashes_for_different_purposes_differ_for_the_same_value() -> None:
    assert email_hash(SECRET, "a@b.c") != avatar_key(SECRET, "a@b.c")


def test_duplicate_key_ignores_case_spacing_and_unicode_form() -> None:
    first = duplicate_key(SECRET, "story", "a@b.c", "Great   article,\nThanks!")
    again = duplicate_key(SECRET, "story", "A@B.C", " great article, thanks! ")

    assert first == again


def test_duplicate_key_is_per_article_and_per_person() -> None:
    base = duplicate_key(SECRET, "story", "a@b.c", "hello")

    assert duplicate_key(SECRET, "other-story", "a@b.c", "hello") != base
    assert duplicate_key(SECRET, "story", "z@b.c", "hello") != base


def test_commenter_is_the_same_name_and_email() -> None:
    assert commenter_key(SECRET, "Ann", "a@b.c") == commenter_key(SECRET, " ann ", "A@b.c")
    assert commenter_key(SECRET, "Ann", "a@b.c") != commenter_key(SECRET, "Bob", "a@b.c")
