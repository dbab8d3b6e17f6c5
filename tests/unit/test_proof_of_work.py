"""ALTCHA challenges and solutions (newsroom.proof_of_work), solved by the package's own solver."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from altcha import Challenge, Payload, solve_challenge

from newsroom.errors import ChallengeSolutionError
from newsroom.proof_of_work import accept, issue
from newsroom.secrets import Keyring

KEYS = Keyring(current=b"k" * 32)
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def solved(challenge: dict[str, object]) -> str:
    parsed = Challenge.from_dict(challenge)
    solution = solve_challenge(parsed)
    assert solution is not None
    return Payload(parsed, solution).to_base64()


class Spent:
    """An in-memory stand-in for the conditional write: each signature once."""

    def __init__(self) -> None:
        self.kept: dict[str, int] = {}

    def __call__(self, signature: str, expires_at: int) -> bool:
        if signature in self.kept:
            return False
        self.kept[signature] = expires_at
        return True


def refusal(payload: str | None, *, keys: Keyring = KEYS, now: datetime = NOW) -> str:
    with pytest.raises(ChallengeSolutionError) as refused:
        accept(keys, payload, now=now, spend=Spent())
    return refused.value.code


def test_a_solution_is_accepted_once_and_kept_until_its_challenge_expires() -> None:
    challenge = issue(KEYS, cost=1, now=datetime.now(UTC))
    payload, spent = solved(challenge), Spent()

    accept(KEYS, payload, now=datetime.now(UTC), spend=spent)
    with pytest.raises(ChallengeSolutionError) as replayed:
        accept(KEYS, payload, now=datetime.now(UTC), spend=spent)

    assert replayed.value.code == "altcha_used"
    assert list(spent.kept.values()) == [challenge["parameters"]["expiresAt"]]  # type: ignore[index]


def test_missing_garbage_and_foreign_solutions_are_refused() -> None:
    foreign = solved(issue(Keyring(current=b"o" * 32), cost=1, now=datetime.now(UTC)))

    assert refusal(None) == "altcha_missing"
    assert refusal("not base64 at all") == "altcha_invalid"
    assert refusal(foreign) == "altcha_invalid"


def test_a_tampered_challenge_is_refused() -> None:
    # Given a solved challenge whose expiry is pushed back after signing (challenge splicing)
    decoded = json.loads(base64.b64decode(solved(issue(KEYS, cost=1, now=datetime.now(UTC)))))
    decoded["challenge"]["parameters"]["expiresAt"] += 3600
    tampered = base64.b64encode(json.dumps(decoded).encode()).decode()

    assert refusal(tampered) == "altcha_invalid"


def test_an_expired_challenge_is_refused_by_our_clock_too() -> None:
    payload = solved(issue(KEYS, cost=1, now=datetime.now(UTC)))

    assert refusal(payload, now=datetime.now(UTC) + timedelta(minutes=11)) == "altcha_expired"


def test_a_challenge_issued_before_a_key_rotation_still_verifies() -> None:
    payload = solved(issue(KEYS, cost=1, now=datetime.now(UTC)))
    rotated = Keyring(current=b"n" * 32, previous=(KEYS.current,))

    accept(rotated, payload, now=datetime.now(UTC), spend=Spent())
