"""Content checks through the comments function's real API Gateway events (the emulator)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from newsroom import content_checks
from newsroom.content_checks import CheckVerdict
from newsroom.moderation import Submission
from tests.apigw import Answer, LambdaContext
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    content_table_of_its_own,  # noqa: F401 (the content_table fixture: a table per test)
    edit_when_flood_allows,
    form,
    post_comment,
    stored_item,
)

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
REPEATED = "See [this](https://spam.example/) and [this again](https://spam.example/)."


@pytest.fixture
def slug(content_table: str, unique: str, settings: Settings) -> str:
    """A published article; the rules approve every comment, links unlimited."""
    settings(require_previous_approval="false", comment_max_links="0")
    slug = f"cc-{unique}"
    seed(content_table, slug)
    return slug


def accepted_id(answer: Answer) -> str:
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def test_without_content_checks_a_comment_the_rules_approve_is_approved_unchecked(
    content_table: str, slug: str, unique: str
) -> None:
    # Given no CONTENT_CHECKS setting
    # When a comment linking one address twice is posted
    answer = post_comment(slug, form(unique, body=REPEATED))

    # Then it is approved, and its moderation records no check
    stored = stored_item(content_table, slug, accepted_id(answer))
    assert (answer.body["status"], stored["status"]) == ("approved", "approved")
    assert stored["moderation"].get("checks", []) == []


def test_repeated_link_check_holds_the_comment_and_stores_its_reason(
    content_table: str, slug: str, unique: str, settings: Settings
) -> None:
    # Given the repeated-link check is on
    settings(content_checks='["repeated_link"]')

    # When a comment linking one address twice is posted
    answer = post_comment(slug, form(unique, body=REPEATED))

    # Then it is held, with the check's verdict kept for the moderator
    stored = stored_item(content_table, slug, accepted_id(answer))
    assert (answer.body["status"], stored["status"]) == ("pending", "pending")
    assert stored["moderation"]["rule"] == "content_check"
    assert stored["moderation"]["keyword"] == "repeated_link"
    assert "https://spam.example/" in stored["moderation"]["explanation"]
    assert [c["outcome"] for c in stored["moderation"]["checks"]] == ["hold"]


def test_a_clean_comment_passes_the_check_and_the_pass_is_recorded(
    content_table: str, slug: str, unique: str, settings: Settings
) -> None:
    settings(content_checks='["repeated_link"]')

    answer = post_comment(slug, form(unique))

    stored = stored_item(content_table, slug, accepted_id(answer))
    assert stored["status"] == "approved"
    assert stored["moderation"]["checks"] == [
        {"name": "repeated_link", "outcome": "ok", "reason": ""}
    ]


@dataclass(frozen=True)
class BrokenCheck:
    name: str = "broken"
    timeout_seconds: float = 0.5

    def check(self, submission: Submission) -> CheckVerdict:
        raise ConnectionError("the spam service cannot be reached")


def test_a_check_that_fails_holds_the_comment_not_a_500(
    content_table: str,
    slug: str,
    unique: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a configured check that raises
    monkeypatch.setitem(content_checks.REGISTRY, "broken", BrokenCheck)
    settings(content_checks='["broken"]')

    # When a comment is posted
    answer = post_comment(slug, form(unique))

    # Then it is accepted and held, the failure named
    stored = stored_item(content_table, slug, accepted_id(answer))
    assert stored["status"] == "pending"
    assert stored["moderation"]["explanation"] == "The content check 'broken': check broken failed"


def test_an_edit_that_fails_a_check_holds_the_approved_comment_again(
    content_table: str, slug: str, unique: str, settings: Settings, quick_flood: None
) -> None:
    # Given an approved comment, the repeated-link check on
    settings(content_checks='["repeated_link"]')
    posted = post_comment(slug, form(unique))
    comment_id, token = accepted_id(posted), str(posted.body["edit_token"])

    # When its author edits it to link one address twice
    answer = edit_when_flood_allows(slug, comment_id, REPEATED, token=token)

    # Then it is held, the check's verdict kept with the edit
    assert answer.status == 200, answer.body
    stored = stored_item(content_table, slug, comment_id)
    assert stored["status"] == "pending"
    assert stored["moderation"]["rule"] == "content_check"
    assert [c["outcome"] for c in stored["moderation"]["checks"]] == ["hold"]


@dataclass(frozen=True)
class HangingCheck:
    name: str = "hanging"
    timeout_seconds: float = 0.3

    def check(self, submission: Submission) -> CheckVerdict:
        time.sleep(3)
        return CheckVerdict.ok()


def test_a_check_that_does_not_answer_in_time_holds_the_comment_within_its_timeout(
    content_table: str,
    slug: str,
    unique: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a configured check that takes far longer than its 0.3 s timeout
    monkeypatch.setitem(content_checks.REGISTRY, "hanging", HangingCheck)
    settings(content_checks='["hanging"]')

    # When a comment is posted
    started = time.monotonic()
    answer = post_comment(slug, form(unique))
    took = time.monotonic() - started

    # Then the answer does not wait for the check, and the comment is held
    assert took < 2.5
    stored = stored_item(content_table, slug, accepted_id(answer))
    assert stored["status"] == "pending"
    assert stored["moderation"]["explanation"].endswith("check hanging timed out")


@dataclass(frozen=True)
class PatientCheck:
    name: str = "patient"
    timeout_seconds: float = 30

    def check(self, submission: Submission) -> CheckVerdict:
        time.sleep(10)
        return CheckVerdict.ok()


def test_a_check_is_not_waited_for_past_the_invocations_deadline_and_the_comment_is_stored(
    content_table: str,
    slug: str,
    unique: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a check allowed 30 s, and an invocation with 7 s left
    monkeypatch.setitem(content_checks.REGISTRY, "patient", PatientCheck)
    settings(content_checks='["patient"]')

    # When a comment is posted
    started = time.monotonic()
    answer = post_comment(slug, form(unique), context=LambdaContext(remaining_millis=7000))
    took = time.monotonic() - started

    # Then the check is given up in time to store the comment (held) and answer
    assert took < 6.5
    stored = stored_item(content_table, slug, accepted_id(answer))
    assert stored["status"] == "pending"
    assert stored["moderation"]["explanation"].endswith("check patient timed out")
