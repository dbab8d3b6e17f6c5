"""A bounded load run on loopback: comments posted and pages read at once through the local
system, then a reconciliation that shows nothing was lost, doubled or miscounted.

    python -m newsroom.local.load [--posts N] [--readers N] [--seconds S] [--articles K]
                                  [--writers N] [--flood-interval S] [--keep-articles]
                                  [--api URL [--emulator-port P]]

Without ``--api`` it starts a `LocalSystem` of its own on free ports; with ``--api`` it drives a
running ``make run`` (loopback only) and reads that run's emulator (``--emulator-port``), its
outbox (``URL/_local/outbox?format=json``) and its dead-letter queue.

What one run does, all through the HTTP API except creating its articles:

- K articles of its own (slugs and author addresses unique to the run), written as the importer
  writes them;
- "regulars" (one post in ten): each posts a first comment, held because nobody approved them
  before, and a moderator approves it through the SigV4-signed admin API; once the email flood
  interval has passed, each replies to another regular's comment and is approved at once
  (``REQUIRE_PREVIOUS_APPROVAL`` stays on: "previously approved" is earned, not configured);
- first-time commenters, held: top-level comments and replies to the regulars' comments (who
  asked to hear about replies), every other one ticking "notify me";
- duplicates: the same email and text again, from another address, once the original was
  answered and the email flood interval has passed: answered as a held comment, never stored;
- retries: a POST sent again with the same ``Idempotency-Key`` once its answer came back;
- readers, meanwhile: an article, its comments page by page, the article list page by page;
- then, from the moderation emails in the outbox, half of the held comments approved and one in
  six marked as spam through their signed links;
- at the end its articles are deleted (``--keep-articles`` keeps them), so the site lists what
  it listed before; the comments stay in the table, out of every listing.

Posting stops at the count or at ``--seconds``, whichever comes first; every sender has its own
127.x.y.z address (Linux routes all of 127/8 to loopback), so flood control sees distinct readers.
Regulars wait out the flood interval (``FLOOD_INTERVAL_SECONDS``, 15 s by default) between their
two comments; ``--flood-interval`` shortens it for a system this command starts (with ``--api``
it must say what the running system uses).

Then it checks, and prints, that: no answer was 5xx and every connection was answered; each post
was answered as the rules say; every 201 is stored exactly once (a Query on each article's
partition, never a Scan) with the status it should have; every approved comment is listed exactly
once across the pages; each article's ``comment_count`` equals its approved comments; the emails
sent are exactly one per (comment, kind, recipient) that docs/notifications.md calls for; and
nothing reached the dead-letter queue. Exit status 0 when all hold, 1 otherwise, 2 when the run
cannot start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import re
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from newsroom.local import emulator as local_emulator
from newsroom.local.load.emails import (
    CommentFacts,
    EmailKey,
    email_kind,
    expected_emails,
    sent_emails,
)
from newsroom.local.load.options import (
    DEFAULT_ARTICLES,
    DEFAULT_FLOOD_INTERVAL,
    DEFAULT_POSTS,
    DEFAULT_READERS,
    DEFAULT_SECONDS,
    DEFAULT_WRITERS,
    LoadOptions,
    LoadSetupError,
    validate,
)
from newsroom.local.load.plan import Post, make_plan
from newsroom.local.load.report import LoadReport, sample
from newsroom.local.load.target import (
    DEAD_LETTER_QUEUE,
    Target,
    create_articles,
    dead_letters,
    own_system,
    running_system,
    stored_comments,
    take_down_articles,
)
from newsroom.local.load.traffic import Addresses, Reply, Traffic, signed_headers

OUTBOX_PATH = "/_local/outbox"
LISTING_PAGE = 7  # small pages, so the walk crosses many cursors
SETTLE_SECONDS = 2.0  # against --api: how long the outbox must stay unchanged once complete

_LINK = re.compile(r"https?://\S+/links/[A-Za-z0-9._%-]+")
_LINK_LABELS = {"approve": "Approve it:", "spam": "Mark it as spam:", "trash": "Trash it:"}


@dataclass(frozen=True)
class Answered:
    post: Post
    replies: tuple[Reply, ...]  # one, or two for a retried post

    @property
    def accepted(self) -> dict[str, Any] | None:
        first = self.replies[0]
        body = first.json() if first.status == 201 else None
        return body if isinstance(body, dict) else None


class LoadRun:
    """One run against one target; `execute` does it all and returns the report."""

    def __init__(self, target: Target, options: LoadOptions) -> None:
        self.target = target
        self.options = options
        rng = random.Random(options.seed)  # noqa: S311 - addresses and ids, not secrets
        self.run = f"{rng.getrandbits(32):08x}"
        self.plan = make_plan(self.run, posts=options.posts, articles=options.articles)
        self.traffic = Traffic(target.api_url)
        self.addresses = Addresses(rng)
        self.report = LoadReport(self.run, target.api_url)
        self.answers: list[Answered] = []
        self.skipped: list[Post] = []
        self.ids: dict[str, str] = {}  # marker -> id of the accepted comment
        self.moderated: dict[str, str] = {}  # comment id -> status the run gave it
        self.read_statuses: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._stop_reading = threading.Event()
        self._deadline = 0.0
        self._setup_at: dict[int, float] = {}  # regular -> when their first comment was in
        self._answered_at: dict[str, float] = {}  # marker -> when its post was accepted
        self.follows: list[tuple[str, str, str]] = []  # (comment id, action, link) followed

    # posting

    def _post(self, post: Post, *, key: str | None = None) -> Reply:
        parent_id = self.ids.get(post.parent_marker) if post.parent_marker else None
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.traffic.send(
            "post",
            "POST",
            f"/articles/{post.slug}/comments",
            body=json.dumps(post.form(parent_id)).encode(),
            headers=headers,
            source_ip=self.addresses.new(),
        )

    def _send(self, post: Post) -> None:
        if post.role == "duplicate":
            ready = self._wait_for_answer(post.marker)
        elif post.regular is not None and post.role == "regular":
            ready = self._setup_at.get(post.regular)
        if post.role == "duplicate" or (post.regular is not None and post.role == "regular"):
            # The email flood guard: a second comment of one email waits out the interval.
            if ready is None:
                self._skip(post)
                return
            ready_at = ready + self.target.flood_interval + 0.5
            if ready_at >= self._deadline:
                self._skip(post)
                return
            # Pacing a client, as the person would wait before commenting again.
            time.sleep(max(0.0, ready_at - time.monotonic()))
        if time.monotonic() >= self._deadline:
            self._skip(post)
            return
        if post.parent_marker is not None and post.parent_marker not in self.ids:
            self._skip(post)  # its parent was never accepted: the setup check says why
            return
        if post.role == "retry":
            key = uuid.uuid4().hex
            replies: tuple[Reply, ...] = (self._post(post, key=key),)
            replies += (self._post(post, key=key),)
        else:
            replies = (self._post(post),)
        answered = Answered(post, replies)
        accepted = answered.accepted
        with self._lock:
            self.answers.append(answered)
            if accepted is not None and post.role != "duplicate":
                self.ids.setdefault(post.marker, str(accepted["id"]))
                self._answered_at.setdefault(post.marker, time.monotonic())
            if post.role == "setup" and accepted is not None and post.regular is not None:
                self._setup_at[post.regular] = time.monotonic()

    def _wait_for_answer(self, marker: str) -> float | None:
        """When the post with `marker` was accepted, waiting for it until the run's deadline;
        None if it never was."""
        while time.monotonic() < self._deadline:
            with self._lock:
                if marker in self._answered_at:
                    return self._answered_at[marker]
                if any(
                    a.post.marker == marker and a.post.role != "duplicate" for a in self.answers
                ):
                    return None  # answered, but not accepted
            time.sleep(0.05)
        return None

    def _skip(self, post: Post) -> None:
        with self._lock:
            self.skipped.append(post)

    def _approve_as_admin(self, comment_id: str, slug: str) -> bool:
        url = f"{self.target.api_url}/admin/comments/{slug}/{comment_id}/approve"
        reply = self.traffic.send("admin", "POST", url, headers=signed_headers("POST", url))
        ok = reply.status == 200 and (reply.json() or {}).get("status") == "approved"
        if ok:
            with self._lock:
                self.moderated[comment_id] = "approved"
        return ok

    # reading

    def _read(self, reader: int) -> None:
        rounds = 0
        while not self._stop_reading.is_set() and time.monotonic() < self._deadline:
            slug = self.plan.slugs[(reader + rounds) % len(self.plan.slugs)]
            source = self.addresses.new()
            self._expect_ok(self.traffic.send("read", "GET", f"/articles/{slug}"))
            self._walk(f"/articles/{slug}/comments", LISTING_PAGE, source, "read")
            if rounds % 3 == 0:
                self._walk("/articles", 2, source, "read", pages=2)
            rounds += 1

    def _expect_ok(self, reply: Reply) -> Reply:
        with self._lock:
            self.read_statuses[reply.status] += 1
        return reply

    def _walk(
        self, path: str, limit: int, source: str, purpose: str, *, pages: int = 1000
    ) -> list[list[dict[str, Any]]]:
        """Pages of a listing, following `next_cursor` (at most `pages`)."""
        found: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        for _ in range(pages):
            query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
            reply = self._expect_ok(
                self.traffic.send(purpose, "GET", f"{path}?{urlencode(query)}", source_ip=source)
            )
            if reply.status != 200:
                break
            body = reply.json()
            found.append(list(body["items"]))
            cursor = body.get("next_cursor")
            if cursor is None:
                break
        return found

    # the outbox and the stream

    def outbox(self) -> list[dict[str, Any]]:
        # The outbox is at the server's root, outside the API's stage.
        url = urljoin(self.target.api_url, OUTBOX_PATH)
        reply = self.traffic.send("outbox", "GET", f"{url}?format=json")
        if reply.status != 200:
            raise LoadSetupError(f"the outbox at {url} answered {reply.status}")
        emails: list[dict[str, Any]] = reply.json()
        return emails

    def drain(self, expected: Callable[[], Counter[EmailKey]]) -> bool:
        """Wait until the stream has delivered everything written so far; False at the deadline.

        Own system: the pollers say when they are idle. A running system: the outbox must hold
        every email `expected` names, then stay unchanged for a moment (later extras would show).
        """
        if self.target.system is not None:
            try:
                self.target.system.wait_for_streams(self.options.drain_seconds)
            except TimeoutError:
                return False
            return True
        deadline = time.monotonic() + self.options.drain_seconds
        settled_since: float | None = None
        last: Counter[EmailKey] | None = None
        while time.monotonic() < deadline:
            current, _ = sent_emails(self.outbox(), marker_tag=self.plan.marker_tag, ids=self.ids)
            complete = not (expected() - current)
            if complete and current == last:
                settled_since = settled_since or time.monotonic()
                if time.monotonic() - settled_since >= SETTLE_SECONDS:
                    return True
            else:
                settled_since = None
            last = current
            time.sleep(0.25)  # polling the outbox of another process
        return False

    def moderation_links(
        self, comment_id: str, outbox: Sequence[Mapping[str, Any]]
    ) -> dict[str, str]:
        """approve / spam / trash -> URL on this API, from the first moderator's email about
        the comment; empty when there is none."""
        marker = next((m for m, cid in self.ids.items() if cid == comment_id), None)
        first = self.target.moderators[0].lower() if self.target.moderators else ""
        for item in outbox:
            text = str(item.get("text") or "")
            recipients = [str(r).lower() for r in item.get("to") or []]
            if marker is None or marker not in text or first not in recipients:
                continue
            if email_kind(str(item.get("subject") or "")) != "moderation":
                continue
            links: dict[str, str] = {}
            for action, label in _LINK_LABELS.items():
                line = next((line for line in text.splitlines() if line.startswith(label)), "")
                match = _LINK.search(line)
                if match:
                    # The link's path (stage included) on the API's host, which is on loopback.
                    links[action] = urljoin(self.target.api_url, urlsplit(match.group(0)).path)
            return links
        return {}

    def _follow(self, comment_id: str, action: str, url: str) -> None:
        reply = self.traffic.send(
            "link", "POST", url, headers={"Accept": "application/json"}, body=b""
        )
        body = reply.json() if reply.status == 200 else None
        if isinstance(body, dict) and body.get("done") is True:
            with self._lock:
                self.moderated[comment_id] = "approved" if action == "approve" else action
        else:
            with self._lock:
                self.report.did.append(
                    f"link {action} for {comment_id} answered {reply.status} {reply.body[:120]!r}"
                )

    # the whole run

    def execute(self) -> LoadReport:
        """Load, moderate, reconcile; then take the run's articles down (unless kept), so the
        site's article list is as it was."""
        create_articles(self.target, self.plan)
        try:
            return self._execute()
        finally:
            self._stop_reading.set()
            if not self.options.keep_articles:
                take_down_articles(self.target, self.plan)

    def _execute(self) -> LoadReport:
        started = time.monotonic()
        self._deadline = started + self.options.seconds
        dead_before = dead_letters(self.target)
        given_up_before = self.target.given_up
        readers = ThreadPoolExecutor(max(1, self.options.readers), "load-reader")
        reading = [readers.submit(self._read, n) for n in range(self.options.readers)]
        with ThreadPoolExecutor(self.options.writers, "load-writer") as writers:
            list(writers.map(self._send, self.plan.setup))
            firsts = [
                (str(accepted["id"]), a.post.slug)
                for a in self.answers
                if a.post.role == "setup" and (accepted := a.accepted) is not None
            ]
            approvals = list(writers.map(lambda first: self._approve_as_admin(*first), firsts))
            list(writers.map(self._send, self.plan.main))
        posted_in = time.monotonic() - started

        drained = self.drain(lambda: self._expected(final=False))
        outbox = self.outbox()
        held = sorted(
            (
                a
                for a in self.answers
                if a.post.role not in ("setup", "duplicate") and self._arrived(a) == "pending"
            ),
            key=lambda a: a.post.number,
        )
        missing_links: list[str] = []
        follows = self.follows
        for i, answered in enumerate(held):
            action = {0: "approve", 1: "approve", 2: "spam", 3: "approve"}.get(i % 6)
            comment_id = str((answered.accepted or {})["id"])
            if action is None:
                continue
            links = self.moderation_links(comment_id, outbox)
            if action not in links:
                missing_links.append(comment_id)
                continue
            follows.append((comment_id, action, links[action]))
        with ThreadPoolExecutor(self.options.writers, "load-moderator") as moderators:
            list(moderators.map(lambda f: self._follow(*f), follows))
        self._stop_reading.set()
        for future in reading:
            future.result()
        readers.shutdown()
        drained = self.drain(lambda: self._expected(final=True)) and drained
        elapsed = time.monotonic() - started

        self._describe(posted_in, elapsed, approvals, follows)
        self._reconcile(
            drained=drained,
            setup_approved=sum(approvals),
            missing_links=missing_links,
            dead=dead_letters(self.target) - dead_before,
            given_up=self.target.given_up - given_up_before,
        )
        return self.report

    # reconciliation

    def _arrived(self, answered: Answered) -> str | None:
        accepted = answered.accepted
        return None if accepted is None else str(accepted["status"])

    def _facts(self, *, final: bool) -> dict[str, CommentFacts]:
        """Every accepted comment as the notification rules see it; `final` applies the run's
        moderation so far (else only the admin approvals of the regulars' first comments)."""
        facts: dict[str, CommentFacts] = {}
        with self._lock:
            answers = list(self.answers)
            moderated = dict(self.moderated)
        for answered in answers:
            accepted = answered.accepted
            if (
                accepted is None
                or str(accepted["id"]) in facts
                or answered.post.role == "duplicate"
            ):
                continue  # a duplicate is answered as a held comment, and never stored
            post = answered.post
            comment_id = str(accepted["id"])
            arrived = str(accepted["status"])
            if final or post.role == "setup":
                status = moderated.get(comment_id, arrived)
            else:
                status = arrived
            facts[comment_id] = CommentFacts(
                id=comment_id,
                slug=post.slug,
                author_email=post.commenter.email,
                notify_replies=post.notify,
                parent_id=self.ids.get(post.parent_marker) if post.parent_marker else None,
                arrived_as=arrived,
                final=status,
            )
        return facts

    def _expected(self, *, final: bool) -> Counter[EmailKey]:
        return expected_emails(
            self._facts(final=final), authors=self.plan.authors, moderators=self.target.moderators
        )

    def _describe(
        self,
        posted_in: float,
        elapsed: float,
        approvals: list[bool],
        follows: list[tuple[str, str, str]],
    ) -> None:
        roles = Counter(a.post.role for a in self.answers)
        accepted = {
            str(a.accepted["id"]): a
            for a in self.answers
            if a.accepted and a.post.role != "duplicate"
        }
        statuses = Counter(self._arrived(a) for a in accepted.values())
        answers = Counter(
            f"{reply.status}" + (f" {reply.error_code}" if reply.error_code else "")
            for a in self.answers
            for reply in a.replies
        )
        by_purpose = self.traffic.by_purpose()
        reads = sum(by_purpose.get("read", Counter()).values())
        api_requests = self.traffic.total(exclude=("outbox",))
        moderated = Counter(self.moderated.values())
        did = self.report.did
        did[:0] = [
            f"articles: {len(self.plan.slugs)} of the run's own ("
            + ("kept" if self.options.keep_articles else "deleted at the end")
            + f"); flood interval {self.target.flood_interval} s; "
            f"{self.options.writers} writers, {self.options.readers} readers",
            f"commenters: {len(self.plan.setup)} regulars (first comment approved through the "
            f"signed admin API: {sum(approvals)}), "
            f"{sum(1 for p in self.plan.main if p.role in ('first', 'retry'))} first-timers",
            f"POST /articles/{{slug}}/comments: {sum(len(a.replies) for a in self.answers)} sent "
            f"of {self.plan.requests()} planned in {posted_in:.1f} s ("
            + ", ".join(f"{role} {n}" for role, n in sorted(roles.items()))
            + f"); {len(self.skipped)} skipped (deadline or missing parent)",
            "answers: " + ", ".join(f"{k}: {n}" for k, n in sorted(answers.items())),
            f"comments accepted: {len(accepted)} (arrived approved {statuses['approved']}, "
            f"held {statuses['pending']})",
            f"reads meanwhile: {reads} (statuses "
            + ", ".join(f"{k}: {n}" for k, n in sorted(self.read_statuses.items()))
            + ")",
            f"moderation through email links: {len(follows)} followed; after the run "
            + ", ".join(f"{status} {n}" for status, n in sorted(moderated.items())),
            f"requests: {api_requests} to the API in {elapsed:.1f} s "
            f"({api_requests / elapsed if elapsed else 0:.0f}/s), "
            f"{self.traffic.total() - api_requests} to the outbox",
        ]
        self.report.figures.update(
            comments_loaded=len(accepted),
            posts_sent=sum(len(a.replies) for a in self.answers),
            posts_skipped=len(self.skipped),
            requests=api_requests,
            reads=reads,
        )

    def _reconcile(
        self,
        *,
        drained: bool,
        setup_approved: int,
        missing_links: list[str],
        dead: int,
        given_up: int,
    ) -> None:
        report = self.report
        report.check(
            "the stream drained",
            drained,
            "every record delivered"
            if drained
            else f"still busy after {self.options.drain_seconds} s",
        )
        report.check(
            "no 5xx, every request answered",
            not self.traffic.failures,
            f"{self.traffic.total()} requests"
            + (f"; {sample(self.traffic.failures)}" if self.traffic.failures else ""),
        )
        bad_reads = {s: n for s, n in self.read_statuses.items() if s != 200}
        report.check(
            "every read answered 200",
            not bad_reads,
            f"{sum(self.read_statuses.values())} reads"
            + (f"; others: {bad_reads}" if bad_reads else ""),
        )
        self._check_answers(setup_approved, missing_links)
        facts = self._facts(final=True)
        stored = stored_comments(self.target, self.plan.slugs)
        self._check_stored(facts, stored)
        self._check_listing_and_counts(facts)
        outbox = self.outbox()
        sent, unknown = sent_emails(outbox, marker_tag=self.plan.marker_tag, ids=self.ids)
        expected = self._expected(final=True)
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

    def _check_answers(self, setup_approved: int, missing_links: list[str]) -> None:
        wrong: list[str] = []
        for answered in self.answers:
            post = answered.post
            replies = answered.replies
            first = replies[0]
            arrived = self._arrived(answered)
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
        if setup_approved != len(self.plan.setup):
            wrong.append(f"{setup_approved} of {len(self.plan.setup)} first comments approved")
        if missing_links:
            wrong.append(f"no moderation email with links for {sample(missing_links)}")
        self.report.check(
            "each post answered as the rules say (held, approved at once, a duplicate as held, "
            "the first answer again for a retried Idempotency-Key)",
            not wrong,
            f"{len(self.answers)} posts" + (f"; {sample(wrong)}" if wrong else ""),
        )

    def _check_stored(
        self, facts: Mapping[str, CommentFacts], stored: list[dict[str, Any]]
    ) -> None:
        ids = Counter(str(item["id"]) for item in stored)
        markers = Counter(
            found
            for item in stored
            for found in re.findall(
                re.escape(self.plan.marker_tag) + r"\d{5}", str(item.get("body_markdown"))
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
        self.report.check(
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
        self.report.check(
            "each stored comment has the status its answer and its moderation give it",
            not wrong,
            ", ".join(f"{status} {n}" for status, n in sorted(Counter(statuses.values()).items()))
            + (f"; {sample(wrong)}" if wrong else ""),
        )

    def _check_listing_and_counts(self, facts: Mapping[str, CommentFacts]) -> None:
        listing_problems: list[str] = []
        count_problems: list[str] = []
        pages = 0
        for slug in self.plan.slugs:
            approved = {cid for cid, f in facts.items() if f.slug == slug and f.final == "approved"}
            walked = self._walk(
                f"/articles/{slug}/comments", LISTING_PAGE, self.addresses.new(), "reconcile"
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
            reply = self._expect_ok(self.traffic.send("reconcile", "GET", f"/articles/{slug}"))
            count = (reply.json() or {}).get("comment_count") if reply.status == 200 else None
            if count != len(approved):
                count_problems.append(f"{slug}: comment_count {count}, approved {len(approved)}")
        approved_total = sum(1 for f in facts.values() if f.final == "approved")
        self.report.check(
            "every approved comment listed exactly once across the pages, nothing else listed",
            not listing_problems,
            f"{approved_total} approved, {pages} pages of {LISTING_PAGE}"
            + (f"; {sample(listing_problems)}" if listing_problems else ""),
        )
        self.report.check(
            "each article's comment_count equals its approved comments",
            not count_problems,
            f"{len(self.plan.slugs)} articles"
            + (f"; {sample(count_problems)}" if count_problems else ""),
        )


def run_load(options: LoadOptions) -> LoadReport:
    """Run the load against a system of its own, or the running one at `options.api`.

    Raises
    ------
    LoadSetupError
        When an option is out of range, or the running system is not there.
    """
    validate(options)
    if options.api is not None:
        target = running_system(options.api, options.emulator_port, options.flood_interval)
        report = LoadRun(target, options).execute()
        report.target = f"{target.api_url} (a running local system)"
        return report
    with own_system(options.flood_interval) as target:
        report = LoadRun(target, options).execute()
        report.target = f"{target.api_url} (a local system of its own, on free ports)"
        return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m newsroom.local.load",
        description="Post and read concurrently through the local system for a fixed count "
        "and time, then check that nothing was lost, doubled or miscounted.",
    )
    parser.add_argument(
        "--posts", type=int, default=DEFAULT_POSTS, help="POST requests (%(default)s)"
    )
    parser.add_argument(
        "--readers", type=int, default=DEFAULT_READERS, help="reader threads (%(default)s)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help="most time spent posting (%(default)s)",
    )
    parser.add_argument(
        "--articles", type=int, default=DEFAULT_ARTICLES, help="articles (%(default)s)"
    )
    parser.add_argument(
        "--writers", type=int, default=DEFAULT_WRITERS, help="posting threads (%(default)s)"
    )
    parser.add_argument(
        "--flood-interval",
        type=int,
        default=None,
        metavar="S",
        help="FLOOD_INTERVAL_SECONDS for a system this command starts; with --api, the running "
        f"system's (default: {DEFAULT_FLOOD_INTERVAL})",
    )
    parser.add_argument(
        "--api", default=None, metavar="URL", help="a running `make run` (loopback) to load instead"
    )
    parser.add_argument(
        "--keep-articles",
        action="store_true",
        help="leave the run's articles on the site afterwards (default: delete them)",
    )
    local_emulator.add_port_argument(parser)
    parser.add_argument("--seed", type=int, default=None, help="seed for ids and addresses")
    parser.add_argument(
        "--log",
        default=None,
        metavar="PATH",
        help="where the functions' own output goes (default: a temporary file)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the command line: print the report; 0 when every check holds, 1 when one
    fails, 2 when the run cannot start."""
    args = _parser().parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    # Read-only requests publish no business metric; Powertools warns about each one.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    options = LoadOptions(
        posts=args.posts,
        readers=args.readers,
        seconds=args.seconds,
        articles=args.articles,
        writers=args.writers,
        api=args.api,
        emulator_port=int(args.emulator_port),
        flood_interval=args.flood_interval,
        keep_articles=args.keep_articles,
        seed=args.seed,
    )
    try:
        validate(options)
    except LoadSetupError as exc:
        print(f"newsroom load: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    with contextlib.ExitStack() as stack:
        if options.api is None:
            # The functions run here: Powertools' logs and metrics go to stdout, where the
            # report would drown in them.
            if args.log is None:
                handle, log_path = tempfile.mkstemp(prefix="newsroom-load-", suffix=".log")
                log = stack.enter_context(open(handle, "w", encoding="utf-8"))
            else:
                log_path = args.log
                log = stack.enter_context(open(log_path, "w", encoding="utf-8"))
            stack.enter_context(contextlib.redirect_stdout(log))
            print(f"the functions' output goes to {log_path}", file=sys.stderr, flush=True)
        try:
            report = run_load(options)
        except LoadSetupError as exc:
            print(f"newsroom load: {exc}", file=sys.stderr)
            return 2
    print(report.render(), file=out, flush=True)
    return 0 if report.ok else 1
