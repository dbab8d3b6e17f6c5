"""Content checks: pluggable tests a comment passes after the built-in moderation rules.

A check has a name, a timeout and ``check(submission) -> CheckVerdict``. `moderate` runs the
built-in rules (`newsroom.moderation.judge`) first; only a comment they would approve goes
through the checks, so a comment the rules hold or mark as spam stays so. Each check runs in
its own daemon thread and is waited for at most its timeout (less when the invocation's
deadline, `newsroom.deadline`, is nearer). A check that raises or does not answer in time
holds the comment ("pending", never "approved"): the checks fail open to moderation.

Checks are named in the ``CONTENT_CHECKS`` setting (a JSON array of names in `REGISTRY`);
none is on by default. Imported only when a check is configured.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from newsroom import deadline
from newsroom.moderation import ModerationPolicy, Status, Submission, Verdict, judge

CheckOutcome = Literal["ok", "hold", "spam", "discard", "failed", "timed_out"]

# Kept after the checks for storing the comment: what the deadline wants left to start the
# first attempt of the layer's DynamoDB client (newsroom.data.dynamo: 1 s to connect, 2 s to
# read, and the 1 s backoff before a second attempt, with half a second to spare); the
# deadline keeps its own time for answering.
_RESERVE_SECONDS = 4.5

# What an outcome makes of an approved comment. A discard is spam not worth keeping: a new
# comment so judged is not stored (`Moderated.discard`, newsroom.comments.submit), an edited
# one, which exists already, becomes spam. Either is answered as held, like all spam, so that
# nothing tells a sender which check caught it.
_STATUS_OF: dict[CheckOutcome, Status] = {
    "ok": "approved",
    "hold": "pending",
    "failed": "pending",
    "timed_out": "pending",
    "spam": "spam",
    "discard": "spam",
}
# The strictest outcome decides: a discard over spam, spam over a hold, a hold over ok.
_STRICTNESS: dict[CheckOutcome, int] = {
    "ok": 0,
    "hold": 1,
    "failed": 1,
    "timed_out": 1,
    "spam": 2,
    "discard": 3,
}


@dataclass(frozen=True)
class CheckVerdict:
    """What one check found: an outcome and, unless ok, why."""

    outcome: CheckOutcome
    reason: str = ""

    @classmethod
    def ok(cls) -> CheckVerdict:
        return cls("ok")

    @classmethod
    def hold(cls, reason: str) -> CheckVerdict:
        return cls("hold", reason)

    @classmethod
    def spam(cls, reason: str) -> CheckVerdict:
        return cls("spam", reason)

    @classmethod
    def discard(cls, reason: str) -> CheckVerdict:
        return cls("discard", reason)


class ContentCheck(Protocol):
    """A content check: its name (kept with the verdict), how long it may take, the test."""

    @property
    def name(self) -> str: ...

    @property
    def timeout_seconds(self) -> float: ...

    def check(self, submission: Submission) -> CheckVerdict: ...


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict on one comment, as kept on its stored moderation."""

    name: str
    outcome: CheckOutcome
    reason: str = ""


@dataclass(frozen=True)
class Moderated:
    """The verdict on a comment, what each check that ran found, and whether the strictest
    answer was discard (the verdict then says spam)."""

    verdict: Verdict
    checks: tuple[CheckResult, ...] = ()
    discard: bool = False


def moderate(
    submission: Submission,
    policy: ModerationPolicy,
    *,
    previously_approved: bool,
    checks: Sequence[ContentCheck] = (),
) -> Moderated:
    """The built-in rules' verdict, then, when they approve, the checks': the strictest wins
    (discard over spam over held over approved); the first check with that outcome gives the
    reason."""
    verdict = judge(submission, policy, previously_approved=previously_approved)
    if verdict.status != "approved" or not checks:
        return Moderated(verdict)
    results = run_checks(submission, checks)
    strictest = max(results, key=lambda r: _STRICTNESS[r.outcome])
    status = _STATUS_OF[strictest.outcome]
    if status == "approved":
        return Moderated(verdict, results)
    return Moderated(
        Verdict(status, "content_check", keyword=strictest.name, reason=strictest.reason),
        results,
        discard=strictest.outcome == "discard",
    )


def run_checks(submission: Submission, checks: Sequence[ContentCheck]) -> tuple[CheckResult, ...]:
    """Every check's result, the checks running side by side; none waited for past its
    timeout nor past the invocation's deadline (less a reserve for storing and answering)."""
    started = time.monotonic()
    answers: dict[int, CheckResult] = {}
    threads = []
    for index, content_check in enumerate(checks):
        thread = threading.Thread(
            target=_run_one,
            args=(content_check, submission, answers, index),
            name=f"check-{content_check.name}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    left = deadline.seconds_left()
    budget_end = None if left is None else started + max(left - _RESERVE_SECONDS, 0.0)
    results = []
    for index, (content_check, thread) in enumerate(zip(checks, threads, strict=True)):
        end = started + content_check.timeout_seconds
        if budget_end is not None:
            end = min(end, budget_end)
        thread.join(max(end - time.monotonic(), 0.0))
        # A thread still running is left to end by itself: its answer is no longer read.
        result = answers.get(index)
        if result is None:
            result = CheckResult(
                content_check.name, "timed_out", f"check {content_check.name} timed out"
            )
        results.append(result)
    return tuple(results)


def _run_one(
    content_check: ContentCheck,
    submission: Submission,
    answers: dict[int, CheckResult],
    index: int,
) -> None:
    try:
        found = content_check.check(submission)
        result = CheckResult(content_check.name, found.outcome, found.reason)
    except Exception:  # any failure of a check holds the comment
        result = CheckResult(content_check.name, "failed", f"check {content_check.name} failed")
    answers[index] = result


_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@dataclass(frozen=True)
class RepeatedLinkCheck:
    """Holds a comment that links one address more than once: a pattern of link spam that the
    link limit lets through when it is set high or off. Reads the rendered body only."""

    name: str = "repeated_link"
    timeout_seconds: float = 0.5

    def check(self, submission: Submission) -> CheckVerdict:
        seen: set[str] = set()
        for href in _HREF.findall(submission.body_html):
            address = href.strip().rstrip("/").casefold()
            if address in seen:
                return CheckVerdict.hold(f"It links {href.strip()} more than once.")
            seen.add(address)
        return CheckVerdict.ok()


# The checks the CONTENT_CHECKS setting may name, each made without arguments.
REGISTRY: dict[str, Callable[[], ContentCheck]] = {
    "repeated_link": RepeatedLinkCheck,
}


def checks_named(names: Sequence[str]) -> tuple[ContentCheck, ...]:
    """The checks of these names, in this order.

    Raises
    ------
    ValueError
        A name is not in `REGISTRY`.
    """
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise ValueError(
            f"unknown content check(s) {', '.join(unknown)}; known: {', '.join(sorted(REGISTRY))}"
        )
    return tuple(REGISTRY[name]() for name in names)
