"""Form tokens (newsroom.form_time): signed with the current key, verified with any key of the
keyring, refused when altered, foreign or older than a day; and the moderation rule that holds
a comment posted sooner than the minimum after its token was issued."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from newsroom.errors import FormTokenError
from newsroom.form_time import FORM_TOKEN_LIFETIME, issue, issued_at, seconds_open
from newsroom.models.comments import CommentIn, FormToken
from newsroom.moderation import ModerationPolicy, Submission, judge
from newsroom.secrets import Keyring

NOW = datetime(2026, 12, 2, 12, 0, 0, 250_000, tzinfo=UTC)
OLD, NEW, OTHER = b"o" * 32, b"n" * 32, b"x" * 32


def refusal(token: str | None, *, keys: Keyring, now: datetime = NOW) -> str:
    with pytest.raises(FormTokenError) as refused:
        issued_at(keys, token, now=now)
    assert (refused.value.status_code, refused.value.field) == (403, "form_token")
    return refused.value.code


# Issuing and verifying


def test_a_token_tells_when_it_was_issued_to_the_millisecond() -> None:
    keys = Keyring(current=NEW)

    token = issue(keys, now=NOW)

    assert issued_at(keys, token, now=NOW + timedelta(seconds=5)) == NOW
    assert seconds_open(keys, token, now=NOW + timedelta(seconds=1.5)) == 1.5
    # What GET /form-token answers, and a comment takes, is this very shape
    assert FormToken(token=token, minimum_seconds=3).token == token
    assert (
        CommentIn.model_validate(
            {
                "author_name": "Ann",
                "author_email": "ann@example.org",
                "body": "Hi.",
                "form_token": token,
            }
        ).form_token
        == token
    )


def test_a_token_signed_before_a_rotation_is_verified_with_the_previous_key() -> None:
    # Given a token issued under the old key, which a rotation has made the previous one
    token = issue(Keyring(current=OLD), now=NOW)
    rotated = Keyring(current=NEW, previous=(OLD,))

    # Then it still verifies, and a new token is signed with the new key alone
    assert issued_at(rotated, token, now=NOW) == NOW
    assert issued_at(Keyring(current=NEW), issue(rotated, now=NOW), now=NOW) == NOW
    # Once the old key is gone, its tokens are no longer ours
    assert refusal(token, keys=Keyring(current=NEW)) == "form_token_invalid"


def test_a_token_is_good_for_a_day_and_expired_after() -> None:
    keys = Keyring(current=NEW)
    token = issue(keys, now=NOW)

    assert issued_at(keys, token, now=NOW + FORM_TOKEN_LIFETIME) == NOW
    assert refusal(token, keys=keys, now=NOW + FORM_TOKEN_LIFETIME + timedelta(milliseconds=1)) == (
        "form_token_expired"
    )
    assert timedelta(hours=24) == FORM_TOKEN_LIFETIME


def test_missing_tampered_foreign_and_malformed_tokens_are_refused() -> None:
    keys = Keyring(current=NEW)
    token = issue(keys, now=NOW)
    issued, signature = token.split(".")
    earlier = str(int(issued) - 10_000)  # a bot claiming the form was loaded 10 s earlier
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    assert refusal(None, keys=keys) == "form_token_missing"
    assert refusal("", keys=keys) == "form_token_missing"
    assert refusal(f"{earlier}.{signature}", keys=keys) == "form_token_invalid"
    assert refusal(f"{issued}.{flipped}", keys=keys) == "form_token_invalid"
    assert refusal(issue(Keyring(current=OTHER), now=NOW), keys=keys) == "form_token_invalid"
    assert refusal("not a token", keys=keys) == "form_token_invalid"
    assert refusal(token + "A", keys=keys) == "form_token_invalid"


def test_a_token_is_signed_under_a_purpose_of_its_own() -> None:
    # Given the bare HMAC of the issue time under the project key (what another use of the
    # key, without this purpose, might sign)
    keys = Keyring(current=NEW)
    issued = issue(keys, now=NOW).split(".")[0]
    bare = hmac.new(NEW, issued.encode(), hashlib.sha256).digest()
    lookalike = f"{issued}.{base64.urlsafe_b64encode(bare).rstrip(b'=').decode()}"

    # Then it is not a form token
    assert refusal(lookalike, keys=keys) == "form_token_invalid"


def test_a_token_from_a_clock_a_little_ahead_counts_as_just_issued() -> None:
    keys = Keyring(current=NEW)
    token = issue(keys, now=NOW + timedelta(milliseconds=300))

    assert seconds_open(keys, token, now=NOW) == 0.0


# The moderation rule


def submission(form_seconds: float | None, **fields: object) -> Submission:
    values: dict[str, object] = {
        "author_name": "Ann",
        "author_email": "ann@example.org",
        "author_url": None,
        "body": "Lovely.",
        "ip": "198.51.100.7",
        "form_seconds": form_seconds,
    }
    return Submission(**(values | fields))  # type: ignore[arg-type]


AUTO = ModerationPolicy(require_previous_approval=False, minimum_form_seconds=3)


def test_a_comment_posted_sooner_than_the_minimum_is_held_with_how_soon() -> None:
    verdict = judge(submission(1.26), AUTO, previously_approved=True)

    assert (verdict.status, verdict.rule) == ("pending", "posted_too_soon")
    assert verdict.reason == "posted 1.2 s after the form was loaded; minimum 3 s"
    assert verdict.explanation == "It was posted 1.2 s after the form was loaded; minimum 3 s."


def test_just_under_the_minimum_never_reads_as_the_minimum() -> None:
    verdict = judge(submission(2.99), AUTO, previously_approved=True)

    assert verdict.reason == "posted 2.9 s after the form was loaded; minimum 3 s"


def test_a_comment_posted_after_the_minimum_gets_the_usual_verdict() -> None:
    assert judge(submission(3.0), AUTO, previously_approved=True).rule == "auto_approved"
    assert judge(
        submission(40.0), ModerationPolicy(minimum_form_seconds=3), previously_approved=False
    ).rule == ("first_comment")


def test_unmeasured_form_time_or_the_rule_off_holds_nothing() -> None:
    off = ModerationPolicy(require_previous_approval=False)

    assert judge(submission(None), AUTO, previously_approved=True).rule == "auto_approved"
    assert judge(submission(0.1), off, previously_approved=True).rule == "auto_approved"


def test_spam_rules_win_over_the_form_time_and_it_wins_over_the_other_hold_rules() -> None:
    strict = ModerationPolicy(
        moderate_all=True, minimum_form_seconds=3, disallowed_keys=("casino",)
    )

    honeypot = judge(submission(0.1, honeypot="555"), strict, previously_approved=True)
    disallowed = judge(submission(0.1, body="Best casino."), strict, previously_approved=True)
    held = judge(submission(0.1), strict, previously_approved=True)

    assert (honeypot.status, honeypot.rule) == ("spam", "honeypot")
    assert (disallowed.status, disallowed.rule) == ("spam", "disallowed_keyword")
    assert (held.status, held.rule) == ("pending", "posted_too_soon")
