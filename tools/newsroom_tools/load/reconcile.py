"""What must be true after a load run, checked against the drive's record and the target: nothing
lost, doubled or miscounted, every email sent once, nothing in the dead-letter queue."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from newsroom_tools.load.drive import LISTING_PAGE, Drive, Outcome
from newsroom_tools.load.emails import CommentFacts, sent_emails
from newsroom_tools.load.report import LoadReport, sample
from newsroom_tools.load.target import DEAD_LETTER_QUEUE, stored_comments


def reconcile(
    report: LoadReport, drive: Drive, outcome: Outcome, *, dead: int, given_up: int
) -> None:
    """Check what must hold after the drive, and add each check to `report`: the stream
    drained, every request answered and no 5xx, each post answered as the rules say, every 201
    stored once with its status, listed once and counted, one email per (comment, kind,
    recipient), and `dead` new dead letters (`given_up` records) none."""
    drained = outcome.drained
    setup_approved = sum(outcome.approvals)
    missing_links = outcome.missing_links
    report.check(
        "the stream drained",
        drained,
        "every record delivered"
        if drained
        else f"still busy after {drive.options.drain_seconds} s",
    )
    report.check(
        "no 5xx, every request answered",
        not drive.traffic.failures,
        f"{drive.traffic.total()} requests"
        + (f"; {sample(drive.traffic.failures)}" if drive.traffic.failures else ""),
    )
    bad_reads = {s: n for s, n in drive.read_statuses.items() if s != 200}
    report.check(
        "every read answered 200",
        not bad_reads,
        f"{sum(drive.read_statuses.values())} reads"
        + (f"; others: {bad_reads}" if bad_reads else ""),
    )
    _check_answers(report, drive, setup_approved, missing_links)
    facts = drive.facts(final=True)
    stored = stored_comments(drive.target, drive.plan.slugs)
    _check_stored(report, drive, facts, stored)
    _check_listing_and_counts(report, drive, facts)
    outbox = drive.outbox()
    sent, unknown = sent_emails(outbox, marker_tag=drive.plan.marker_tag, ids=drive.ids)
    expected = drive.expected(final=True)
    missing = expected - sent
    extra = sent - expected
    report.check(
        "one email per (comment, kind, recipient), as docs/notifications.md says",
        not missing and not extra and not unknown,
        f"{sum(expected.values())} expected, {sum(sent.values())} sent"
        + (f"; missing {sample(sorted(missing))}" if missing else "")
        + (f"; extra {sample(sorted(extra.elements()))}" if extra else "")
        + (f"; unrecognised {sample(unknown)}" if unknown else ""),
    )
    report.figures["emails"] = sum(sent.values())
    report.figures["lost"] = sum(missing.values())
    report.figures["dead_letters"] = dead
    report.check(
        "nothing in the dead-letter queue",
        dead == 0 and given_up == 0,
        f"{dead} new message(s) in {DEAD_LETTER_QUEUE}"
        + (f", {given_up} record(s) given up by the local pollers" if given_up else ""),
    )


def _check_answers(
    report: LoadReport, drive: Drive, setup_approved: int, missing_links: list[str]
) -> None:
    wrong: list[str] = []
    for answered in drive.answers:
        post = answered.post
        replies = answered.replies
        first = replies[0]
        arrived = answered.arrived
        if post.role in ("setup", "first", "duplicate") and arrived != "pending":
            wrong.append(f"{post.role} {post.marker}: {first.status} {first.body[:120]!r}")
        elif post.role == "regular" and arrived != "approved":
            wrong.append(f"regular {post.marker}: {first.status} {first.body[:120]!r}")
        elif post.role == "retry":
            same = len(replies) == 2 and replies[1].status == 201
            same = same and replies[1].json() == replies[0].json()
            if arrived != "pending" or not same:
                wrong.append(
                    f"retry {post.marker}: "
                    + " then ".join(f"{r.status} {r.body[:80]!r}" for r in replies)
                )
    if setup_approved != len(drive.plan.setup):
        wrong.append(f"{setup_approved} of {len(drive.plan.setup)} first comments approved")
    if missing_links:
        wrong.append(f"no moderation email with links for {sample(missing_links)}")
    report.check(
        "each post answered as the rules say (held, approved at once, a duplicate as held, "
        "the first answer again for a retried Idempotency-Key)",
        not wrong,
        f"{len(drive.answers)} posts" + (f"; {sample(wrong)}" if wrong else ""),
    )


def _check_stored(
    report: LoadReport,
    drive: Drive,
    facts: Mapping[str, CommentFacts],
    stored: list[dict[str, Any]],
) -> None:
    ids = Counter(str(item["id"]) for item in stored)
    markers = Counter(
        found
        for item in stored
        for found in re.findall(
            re.escape(drive.plan.marker_tag) + r"\d{5}", str(item.get("body_markdown"))
        )
    )
    stored_at = {str(item["id"]): str(item["slug"]) for item in stored}
    problems: list[str] = []
    for comment_id, fact in facts.items():
        if ids[comment_id] != 1:
            problems.append(f"{comment_id} stored {ids[comment_id]} times")
        elif stored_at[comment_id] != fact.slug:
            problems.append(f"{comment_id} stored on {stored_at[comment_id]}")
    problems += [f"{cid} stored but never answered 201" for cid in ids if cid not in facts]
    problems += [f"text {m} stored {n} times" for m, n in markers.items() if n != 1]
    report.check(
        "every 201 stored exactly once (a Query per article), no duplicate, nothing else",
        not problems,
        f"{len(facts)} accepted, {len(stored)} stored"
        + (f"; {sample(problems)}" if problems else ""),
    )
    statuses = {str(item["id"]): str(item["status"]) for item in stored}
    wrong = [
        f"{cid} is {statuses.get(cid)}, should be {fact.final}"
        for cid, fact in facts.items()
        if statuses.get(cid) != fact.final
    ]
    report.check(
        "each stored comment has the status its answer and its moderation give it",
        not wrong,
        ", ".join(f"{status} {n}" for status, n in sorted(Counter(statuses.values()).items()))
        + (f"; {sample(wrong)}" if wrong else ""),
    )


def _check_listing_and_counts(
    report: LoadReport, drive: Drive, facts: Mapping[str, CommentFacts]
) -> None:
    listing_problems: list[str] = []
    count_problems: list[str] = []
    pages = 0
    for slug in drive.plan.slugs:
        approved = {cid for cid, f in facts.items() if f.slug == slug and f.final == "approved"}
        walked = drive.walk(
            f"/articles/{slug}/comments", LISTING_PAGE, drive.addresses.new(), "reconcile"
        )
        pages += len(walked)
        listed = Counter(str(item["id"]) for page in walked for item in page)
        twice = [cid for cid, n in listed.items() if n > 1]
        if twice:
            listing_problems.append(f"{slug}: listed more than once {sample(twice)}")
        if set(listed) != approved:
            listing_problems.append(
                f"{slug}: missing {sample(sorted(approved - set(listed)))}, "
                f"not approved {sample(sorted(set(listed) - approved))}"
            )
        reply = drive.expect_ok(drive.traffic.send("reconcile", "GET", f"/articles/{slug}"))
        count = (reply.json() or {}).get("comment_count") if reply.status == 200 else None
        if count != len(approved):
            count_problems.append(f"{slug}: comment_count {count}, approved {len(approved)}")
    approved_total = sum(1 for f in facts.values() if f.final == "approved")
    report.check(
        "every approved comment listed exactly once across the pages, nothing else listed",
        not listing_problems,
        f"{approved_total} approved, {pages} pages of {LISTING_PAGE}"
        + (f"; {sample(listing_problems)}" if listing_problems else ""),
    )
    report.check(
        "each article's comment_count equals its approved comments",
        not count_problems,
        f"{len(drive.plan.slugs)} articles"
        + (f"; {sample(count_problems)}" if count_problems else ""),
    )
