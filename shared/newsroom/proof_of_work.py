"""ALTCHA proof of work (PoW v2, PBKDF2/SHA-256): issuing challenges, and checking a comment's
solution once. Imported only when the setting is on; the `altcha` package with it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from newsroom.errors import ChallengeSolutionError
from newsroom.secrets import Keyring

ALGORITHM = "PBKDF2/SHA-256"
CHALLENGE_LIFETIME = timedelta(minutes=10)
_PURPOSE = b"newsroom.altcha.v1"


def hmac_secret(key: bytes) -> bytes:
    """The key ALTCHA signs challenges with: derived from a project key under a purpose of its
    own, so the project's secret itself is never handed to the library."""
    return hmac.new(key, _PURPOSE, hashlib.sha256).digest()


def issue(keys: Keyring, *, cost: int, now: datetime) -> dict[str, Any]:
    """A signed challenge (ALTCHA's JSON: parameters and signature), expiring in ten minutes."""
    from altcha import create_challenge

    challenge = create_challenge(
        ALGORITHM,
        cost=cost,
        expires_at=int((now + CHALLENGE_LIFETIME).timestamp()),
        hmac_secret=hmac_secret(keys.current),
    )
    return dict(challenge.to_dict())


def accept(
    keys: Keyring, payload: str | None, *, now: datetime, spend: Callable[[str, int], bool]
) -> None:
    """Check a solution (the base64 payload ALTCHA's widget v3 sends) and spend it.

    `spend(signature, expires_at)` records the challenge's signature until its expiry and
    answers False if it was recorded before (a conditional write).

    Raises
    ------
    ChallengeSolutionError
        Missing, invalid (any key of `keys`), expired (checked here too: the library trusts
        its own clock and a TTL deletes late), or used before.
    """
    from altcha import Payload, verify_solution

    if not payload:
        raise ChallengeSolutionError("missing")
    try:
        parsed = Payload.from_base64(payload)
        results = [verify_solution(parsed, hmac_secret(key)) for key in keys.all]
    except (ValueError, TypeError, KeyError) as exc:
        raise ChallengeSolutionError("invalid") from exc
    verified = next((r for r in results if r.verified), None)
    if verified is None:
        if any(r.expired and not r.invalid_signature for r in results):
            raise ChallengeSolutionError("expired")
        raise ChallengeSolutionError("invalid")
    expires_at = int(parsed.challenge.parameters.expires_at or 0)
    if expires_at <= now.timestamp():
        raise ChallengeSolutionError("expired")
    if not spend(str(parsed.challenge.signature), expires_at):
        raise ChallengeSolutionError("used")
