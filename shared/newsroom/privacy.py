"""Keyed hashes that let us recognise an IP, an email or a commenter without revealing them."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


def keyed_hash(secret: bytes, purpose: str, *parts: str) -> str:
    """HMAC-SHA256 of `parts` under `secret`, separated by purpose so hashes never collide
    across uses. Without the secret, a hash cannot be reversed by trying known values."""
    message = "\x1f".join((purpose, *parts)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def normalise_text(text: str) -> str:
    """Text as a duplicate check sees it: case, spacing and Unicode form do not make it new."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def ip_hash(secret: bytes, ip: str) -> str:
    return keyed_hash(secret, "ip", ip.strip())


def email_hash(secret: bytes, email: str) -> str:
    return keyed_hash(secret, "email", normalise_email(email))


def commenter_key(secret: bytes, name: str, email: str) -> str:
    """Who a commenter is for "previously approved": the same name and the same email."""
    return keyed_hash(secret, "commenter", normalise_text(name), normalise_email(email))


def avatar_key(secret: bytes, email: str) -> str:
    """A stable identicon seed for an email; unlike an MD5 Gravatar hash, not reversible."""
    return keyed_hash(secret, "avatar", normalise_email(email))[:32]


def duplicate_key(secret: bytes, slug: str, email: str, body: str) -> str:
    """The same person posting the same text on the same article again."""
    return keyed_hash(secret, "duplicate", slug, normalise_email(email), normalise_text(body))


def subscriber_key(secret: bytes, email: str) -> str:
    """An address as the record of its confirmed reply notices knows it."""
    return keyed_hash(secret, "subscriber", normalise_email(email))
