"""Emails escape what readers wrote and cannot carry injected headers; tokens resist tampering."""

from __future__ import annotations

import email
from email import policy

import pytest
from itsdangerous import URLSafeTimedSerializer

from newsroom.emails import CommentView, header_safe, moderation_request, reply_notice
from newsroom.secrets import Keyring
from newsroom.tokens import (
    TokenExpiredError,
    TokenInvalidError,
    sign,
    sign_edit,
    verify,
    verify_edit,
)

KEYS = Keyring(b"s" * 32)
HOSTILE = CommentView(
    article_title="Evil\r\nBcc: victim@example.org",
    article_url="https://news.example/a",
    author_name='<script>alert(1)</script>"',
    author_url="javascript:alert(1)",
    text="<img src=x onerror=alert(1)>",
    reason="first <b>comment</b>",
)


def test_subject_cannot_carry_a_header_injection() -> None:
    assert header_safe("Hi\r\nBcc: x@example.org\u2028Cc: y") == "Hi Bcc: x@example.org Cc: y"


def test_email_from_hostile_comment_has_escaped_html_and_one_line_subject() -> None:
    message = moderation_request(
        "mod@example.org",
        HOSTILE,
        approve="https://a",
        spam="https://s",
        trash="https://t",
        expires_days=7,
    )

    parsed = email.message_from_bytes(message.to_mime("n@example.com"), policy=policy.default)

    assert parsed["Bcc"] is None
    assert "\n" not in parsed["Subject"]
    html_part = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html_part
    assert "<img" not in html_part
    assert "&lt;script&gt;" in html_part
    assert 'href="javascript:' not in html_part


def test_email_has_text_and_html_parts() -> None:
    message = reply_notice("pat@example.org", HOSTILE, unsubscribe="https://u")

    parsed = email.message_from_bytes(message.to_mime("n@example.com"), policy=policy.default)

    assert parsed.get_body(("plain",)) is not None
    assert parsed.get_body(("html",)) is not None
    assert parsed["List-Unsubscribe"] == "<https://u>"


def test_token_round_trips_its_claim() -> None:
    token = sign(KEYS, slug="story", comment_id="c1", action="approve")

    claim = verify(KEYS, token, max_age_seconds=60)

    assert (claim.slug, claim.comment_id, claim.action) == ("story", "c1", "approve")


def test_a_moderation_token_carries_the_revision_it_was_signed_for() -> None:
    token = sign(KEYS, slug="story", comment_id="c1", action="approve", revision=3)

    assert verify(KEYS, token, max_age_seconds=60).revision == 3


def test_a_token_signed_before_tokens_had_a_revision_is_for_the_unedited_comment() -> None:
    older = URLSafeTimedSerializer(KEYS.current, salt="newsroom.link.v1").dumps(
        {"s": "story", "c": "c1", "a": "approve", "j": "x"}
    )

    assert verify(KEYS, older, max_age_seconds=60).revision == 0


@pytest.mark.parametrize("revision", [-1, "2", 1.5, True, None])
def test_a_token_with_a_revision_that_is_no_count_is_refused(revision: object) -> None:
    forged = URLSafeTimedSerializer(KEYS.current, salt="newsroom.link.v1").dumps(
        {"s": "story", "c": "c1", "a": "approve", "j": "x", "r": revision}
    )

    with pytest.raises(TokenInvalidError):
        verify(KEYS, forged, max_age_seconds=60)


def test_each_token_has_its_own_one_time_id() -> None:
    one = verify(KEYS, sign(KEYS, slug="s", comment_id="c", action="spam"), max_age_seconds=9)
    two = verify(KEYS, sign(KEYS, slug="s", comment_id="c", action="spam"), max_age_seconds=9)

    assert one.jti != two.jti


@pytest.mark.parametrize("change", [lambda t: t[:-2] + "xx", lambda t: "A" + t[1:], str.upper])
def test_tampered_token_is_refused(change: object) -> None:
    token = sign(KEYS, slug="story", comment_id="c1", action="approve")

    with pytest.raises(TokenInvalidError):
        verify(KEYS, change(token), max_age_seconds=60)  # type: ignore[operator]


def test_token_signed_with_another_secret_is_refused() -> None:
    token = sign(Keyring(b"o" * 32), slug="story", comment_id="c1", action="approve")

    with pytest.raises(TokenInvalidError):
        verify(KEYS, token, max_age_seconds=60)


def test_expired_token_is_refused() -> None:
    token = sign(KEYS, slug="story", comment_id="c1", action="approve")

    with pytest.raises(TokenExpiredError):
        verify(KEYS, token, max_age_seconds=-1)


def test_token_with_another_action_inside_is_refused() -> None:
    forged = URLSafeTimedSerializer(KEYS.current, salt="newsroom.link.v1").dumps(
        {"s": "story", "c": "c1", "a": "delete", "j": "x"}
    )

    with pytest.raises(TokenInvalidError):
        verify(KEYS, forged, max_age_seconds=60)


def test_edit_token_round_trips_its_comment_and_when_it_was_issued() -> None:
    token = sign_edit(KEYS, slug="story", comment_id="c1")

    claim = verify_edit(KEYS, token)

    assert (claim.slug, claim.comment_id) == ("story", "c1")
    assert claim.issued_at.tzinfo is not None


def test_edit_token_of_the_previous_key_is_honoured_and_new_ones_use_the_current() -> None:
    old = sign_edit(Keyring(b"p" * 32), slug="story", comment_id="c1")
    rotated = Keyring(b"n" * 32, (b"p" * 32,))

    assert verify_edit(rotated, old).comment_id == "c1"
    with pytest.raises(TokenInvalidError):
        verify_edit(Keyring(b"p" * 32), sign_edit(rotated, slug="story", comment_id="c1"))


@pytest.mark.parametrize("change", [lambda t: t[:-2] + "xx", lambda t: "A" + t[1:], str.upper])
def test_tampered_edit_token_is_refused(change: object) -> None:
    token = sign_edit(KEYS, slug="story", comment_id="c1")

    with pytest.raises(TokenInvalidError):
        verify_edit(KEYS, change(token))  # type: ignore[operator]


def test_link_and_edit_tokens_are_never_taken_for_each_other() -> None:
    link = sign(KEYS, slug="story", comment_id="c1", action="trash")
    edit = sign_edit(KEYS, slug="story", comment_id="c1")

    with pytest.raises(TokenInvalidError):
        verify_edit(KEYS, link)
    with pytest.raises(TokenInvalidError):
        verify(KEYS, edit, max_age_seconds=60)


def test_moderation_request_for_an_edited_comment_says_so_first() -> None:
    plain = moderation_request(
        "m@x.org", HOSTILE, approve="https://a", spam="https://s", trash="https://t", expires_days=7
    )
    edited = moderation_request(
        "m@x.org",
        HOSTILE,
        approve="https://a",
        spam="https://s",
        trash="https://t",
        expires_days=7,
        edited=True,
    )

    assert "edited" not in plain.subject
    assert "edited" in edited.subject
    assert edited.text.startswith("A comment its author edited after posting it")
    assert "edited after posting it" in edited.html
