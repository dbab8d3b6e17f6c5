"""The moderation policy, rule by rule, in WordPress's order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from newsroom.moderation import ModerationPolicy, Submission, count_links, judge
from newsroom.rendering import render_comment

CLEAN = Submission(
    author_name="Ann Reader",
    author_email="ann@example.org",
    author_url="https://ann.example.org/",
    body="Lovely piece about the harbour.",
    ip="198.51.100.7",
    user_agent="Mozilla/5.0",
    body_html=render_comment("Lovely piece about the harbour."),
)


def saying(body: str) -> Submission:
    """The clean submission with another text, rendered as the comment logic renders it."""
    return replace(CLEAN, body=body, body_html=render_comment(body))


DEFAULT = ModerationPolicy()


def test_first_time_commenter_is_held() -> None:
    verdict = judge(CLEAN, DEFAULT, previously_approved=False)

    assert (verdict.status, verdict.rule) == ("pending", "first_comment")


def test_previously_approved_commenter_is_approved() -> None:
    verdict = judge(CLEAN, DEFAULT, previously_approved=True)

    assert (verdict.status, verdict.rule) == ("approved", "previously_approved")


def test_without_the_previous_approval_rule_a_clean_comment_is_approved() -> None:
    policy = ModerationPolicy(require_previous_approval=False)

    assert judge(CLEAN, policy, previously_approved=False).status == "approved"


@pytest.mark.parametrize(
    ("body", "links"),
    [
        ("no links", 0),
        ("see https://a.example", 1),
        ("see https://a.example and http://b.example", 2),
        ("www.a.example and mailto:x@y.z", 2),
        ("[text](https://a.example) HTTPS://B.EXAMPLE ftp://c.example", 3),
        ("[https://a.example](https://a.example)", 1),
        # Spellings the source hides and the rendered comment shows as links
        ("[x](&#104;ttps://a.example) [y](&#104;ttps://b.example)", 2),
        ("[x](https&colon;//a.example) [y](https&colon;//b.example)", 2),
        ("<http:a.example> <http:b.example>", 2),
        ("<me@a.example> <you@b.example>", 2),
    ],
)
def test_links_are_counted_in_every_spelling_as_rendered(body: str, links: int) -> None:
    assert count_links(render_comment(body)) == links


@pytest.mark.parametrize(
    "body",
    [
        "[x](&#104;ttps://a.example) [y](&#104;ttps://b.example)",
        "[x](https&colon;//a.example) [y](https&colon;//b.example)",
        "<http:a.example> <http:b.example>",
        "<me@a.example> <you@b.example>",
    ],
)
def test_links_hidden_from_the_source_still_hold_the_comment(body: str) -> None:
    verdict = judge(saying(body), DEFAULT, previously_approved=True)

    assert (verdict.status, verdict.rule) == ("pending", "too_many_links")


def test_a_moderation_word_spelled_with_character_references_is_found() -> None:
    policy = ModerationPolicy(moderation_keys=("casino",))

    verdict = judge(saying("Try our c&#97;sino"), policy, previously_approved=True)

    assert (verdict.status, verdict.keyword) == ("pending", "casino")


def test_two_links_hold_even_a_trusted_commenter() -> None:
    submission = saying("https://a.example and https://b.example")

    verdict = judge(submission, DEFAULT, previously_approved=True)

    assert (verdict.status, verdict.rule) == ("pending", "too_many_links")


def test_one_link_does_not_hold_a_trusted_commenter() -> None:
    submission = saying("see https://a.example")

    assert judge(submission, DEFAULT, previously_approved=True).status == "approved"


def test_link_rule_off_when_max_links_is_zero() -> None:
    submission = saying("https://a.example https://b.example https://c.example")
    policy = ModerationPolicy(max_links=0)

    assert judge(submission, policy, previously_approved=True).status == "approved"


@pytest.mark.parametrize(
    "field",
    ["author_name", "author_email", "author_url", "body", "ip", "user_agent"],
)
def test_moderation_key_in_any_checked_field_holds_the_comment(field: str) -> None:
    submission = replace(CLEAN, **{field: "xx CaSiNo xx"})
    policy = ModerationPolicy(moderation_keys=("casino",))

    verdict = judge(submission, policy, previously_approved=True)

    assert (verdict.status, verdict.rule, verdict.keyword) == (
        "pending",
        "moderation_keyword",
        "casino",
    )


def test_key_matches_inside_words_as_wordpress_does() -> None:
    policy = ModerationPolicy(moderation_keys=("press",))
    submission = saying("Built with WordPress")

    assert judge(submission, policy, previously_approved=True).status == "pending"


def test_blank_keys_match_nothing() -> None:
    policy = ModerationPolicy(moderation_keys=("", "   "), disallowed_keys=("",))

    assert judge(CLEAN, policy, previously_approved=True).status == "approved"


def test_disallowed_key_makes_spam_before_any_hold_rule() -> None:
    policy = ModerationPolicy(disallowed_keys=("viagra",), moderate_all=True)
    submission = saying("cheap VIAGRA https://a.example https://b.example")

    verdict = judge(submission, policy, previously_approved=False)

    assert (verdict.status, verdict.rule, verdict.keyword) == (
        "spam",
        "disallowed_keyword",
        "viagra",
    )


def test_disallowed_ip_makes_spam() -> None:
    policy = ModerationPolicy(disallowed_keys=("198.51.100.",))

    assert judge(CLEAN, policy, previously_approved=True).status == "spam"


def test_filled_honeypot_is_spam() -> None:
    verdict = judge(replace(CLEAN, honeypot="555-0100"), DEFAULT, previously_approved=True)

    assert (verdict.status, verdict.rule) == ("spam", "honeypot")


def test_moderate_all_holds_a_trusted_commenter() -> None:
    verdict = judge(CLEAN, ModerationPolicy(moderate_all=True), previously_approved=True)

    assert (verdict.status, verdict.rule) == ("pending", "moderate_all")


def test_every_verdict_explains_itself_for_the_moderator() -> None:
    verdict = judge(
        saying("casino"),
        ModerationPolicy(moderation_keys=("casino",)),
        previously_approved=True,
    )

    assert "casino" in verdict.explanation
