"""The content checks after the moderation rules: precedence, timeouts, failures, records."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from newsroom import deadline
from newsroom.content_checks import (
    CheckVerdict,
    ContentCheck,
    RepeatedLinkCheck,
    checks_named,
    moderate,
)
from newsroom.models.comments import Moderation
from newsroom.moderation import ModerationPolicy, Submission
from newsroom.rendering import render_comment

CLEAN = Submission(
    author_name="Ann Reader",
    author_email="ann@example.org",
    author_url=None,
    body="Lovely piece about the harbour.",
    ip="198.51.100.7",
    body_html=render_comment("Lovely piece about the harbour."),
)
APPROVING = ModerationPolicy(require_previous_approval=False)


@dataclass(frozen=True)
class FakeCheck:
    name: str
    answer: Callable[[Submission], CheckVerdict]
    timeout_seconds: float = 0.5

    def check(self, submission: Submission) -> CheckVerdict:
        return self.answer(submission)


def answering(name: str, verdict: CheckVerdict) -> ContentCheck:
    return FakeCheck(name, lambda _: verdict)


def raising(submission: Submission) -> CheckVerdict:
    raise RuntimeError("the service is down")


def test_without_checks_the_rules_verdict_stands_and_nothing_is_recorded() -> None:
    moderated = moderate(CLEAN, APPROVING, previously_approved=False)

    assert (moderated.verdict.status, moderated.verdict.rule) == ("approved", "auto_approved")
    assert moderated.checks == ()


def test_passing_checks_keep_the_approval_and_are_recorded() -> None:
    moderated = moderate(
        CLEAN, APPROVING, previously_approved=False, checks=[answering("a", CheckVerdict.ok())]
    )

    assert moderated.verdict.rule == "auto_approved"
    assert [(c.name, c.outcome) for c in moderated.checks] == [("a", "ok")]


def test_hold_from_a_check_holds_with_its_reason() -> None:
    moderated = moderate(
        CLEAN,
        APPROVING,
        previously_approved=False,
        checks=[answering("ok", CheckVerdict.ok()), answering("h", CheckVerdict.hold("Odd."))],
    )

    assert (moderated.verdict.status, moderated.verdict.rule) == ("pending", "content_check")
    assert moderated.verdict.explanation == "The content check 'h': Odd."


def test_spam_wins_over_hold_and_is_not_a_discard() -> None:
    spam = moderate(
        CLEAN,
        APPROVING,
        previously_approved=False,
        checks=[
            answering("h", CheckVerdict.hold("Odd.")),
            answering("s", CheckVerdict.spam("Ad.")),
        ],
    )

    assert (spam.verdict.status, spam.verdict.keyword) == ("spam", "s")
    assert not spam.discard


def test_discard_wins_over_spam_as_spam_marked_to_discard_with_its_reason() -> None:
    # Given a check that says spam before one that says discard
    checks = [
        answering("s", CheckVerdict.spam("Ad.")),
        answering("d", CheckVerdict.discard("Bot.")),
    ]

    # When a comment the rules approve is checked
    discarded = moderate(CLEAN, APPROVING, previously_approved=False, checks=checks)

    # Then the discard decides: spam (what an edit becomes), to be discarded (a new comment)
    assert (discarded.verdict.status, discarded.verdict.keyword) == ("spam", "d")
    assert discarded.verdict.explanation == "The content check 'd': Bot."
    assert discarded.discard
    assert [c.outcome for c in discarded.checks] == ["spam", "discard"]


def test_a_comment_the_rules_mark_as_spam_is_not_discarded_whatever_a_check_would_say() -> None:
    moderated = moderate(
        CLEAN,
        ModerationPolicy(disallowed_keys=("harbour",)),
        previously_approved=True,
        checks=[answering("d", CheckVerdict.discard("Bot."))],
    )

    assert (moderated.verdict.status, moderated.verdict.rule) == ("spam", "disallowed_keyword")
    assert not moderated.discard
    assert moderated.checks == ()


def test_a_raising_check_holds_the_comment_never_approves_it() -> None:
    moderated = moderate(
        CLEAN, APPROVING, previously_approved=False, checks=[FakeCheck("flaky", raising)]
    )

    assert moderated.verdict.status == "pending"
    assert moderated.verdict.reason == "check flaky failed"
    assert [c.outcome for c in moderated.checks] == ["failed"]


def test_a_slow_check_is_not_waited_for_past_its_timeout_and_holds() -> None:
    release = threading.Event()

    def slow(_: Submission) -> CheckVerdict:
        release.wait(5)
        return CheckVerdict.ok()

    started = time.monotonic()
    try:
        moderated = moderate(
            CLEAN,
            APPROVING,
            previously_approved=False,
            checks=[FakeCheck("slow", slow, timeout_seconds=0.2)],
        )
    finally:
        release.set()

    assert time.monotonic() - started < 1
    assert moderated.verdict.status == "pending"
    assert moderated.verdict.reason == "check slow timed out"


def test_checks_run_side_by_side_so_two_slow_ones_cost_one_timeout() -> None:
    release = threading.Event()

    def slow(_: Submission) -> CheckVerdict:
        release.wait(5)
        return CheckVerdict.ok()

    started = time.monotonic()
    try:
        moderate(
            CLEAN,
            APPROVING,
            previously_approved=False,
            checks=[FakeCheck("a", slow, 0.4), FakeCheck("b", slow, 0.4)],
        )
    finally:
        release.set()

    assert time.monotonic() - started < 0.75


class _Remaining:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_a_check_is_not_waited_for_past_the_invocations_deadline() -> None:
    release = threading.Event()

    def slow(_: Submission) -> CheckVerdict:
        release.wait(10)
        return CheckVerdict.ok()

    # 5.3 s left: 0.5 s kept for answering, 4.5 s for storing, so 0.3 s for the checks.
    started = time.monotonic()
    try:
        with deadline.invocation(_Remaining(5300)):
            moderated = moderate(
                CLEAN,
                APPROVING,
                previously_approved=False,
                checks=[FakeCheck("slow", slow, timeout_seconds=5)],
            )
    finally:
        release.set()

    assert time.monotonic() - started < 1
    assert moderated.verdict.status == "pending"


@pytest.mark.parametrize(
    ("policy", "submission", "rule"),
    [
        (ModerationPolicy(), CLEAN, "first_comment"),
        (replace(APPROVING, disallowed_keys=("harbour",)), CLEAN, "disallowed_keyword"),
        (APPROVING, replace(CLEAN, honeypot="555"), "honeypot"),
    ],
)
def test_a_comment_the_rules_hold_or_mark_as_spam_is_not_checked(
    policy: ModerationPolicy, submission: Submission, rule: str
) -> None:
    moderated = moderate(
        submission,
        policy,
        previously_approved=False,
        checks=[answering("ok", CheckVerdict.ok())],
    )

    assert moderated.verdict.rule == rule
    assert moderated.checks == ()


def test_repeated_link_check_holds_a_comment_linking_one_address_twice() -> None:
    body = "See [this](https://spam.example/) and [that](https://SPAM.example)."
    submission = replace(CLEAN, body=body, body_html=render_comment(body))

    assert RepeatedLinkCheck().check(submission).outcome == "hold"
    assert RepeatedLinkCheck().check(CLEAN).outcome == "ok"
    two = "[a](https://a.example/) [b](https://b.example/)"
    assert RepeatedLinkCheck().check(replace(CLEAN, body_html=render_comment(two))).outcome == "ok"


def test_unknown_check_name_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="nope"):
        checks_named(["repeated_link", "nope"])


def test_stored_moderation_without_checks_still_loads() -> None:
    stored = {"rule": "first_comment", "explanation": "x", "by": "policy"}

    assert Moderation.model_validate(stored).checks == ()
