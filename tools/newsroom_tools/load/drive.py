"""The load run's traffic: comments posted by many writers while readers read, the regulars'
first comments approved through the admin API, held comments moderated by following their email
links, and what each answer was."""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from newsroom_tools.load.emails import (
    CommentFacts,
    EmailKey,
    email_kind,
    expected_emails,
    sent_emails,
)
from newsroom_tools.load.options import LoadOptions, LoadSetupError
from newsroom_tools.load.plan import Plan, Post
from newsroom_tools.load.target import Target
from newsroom_tools.load.traffic import Addresses, Reply, Traffic, signed_headers

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

    @property
    def arrived(self) -> str | None:
        """The status the first answer gave the comment; None when it was not accepted."""
        accepted = self.accepted
        return None if accepted is None else str(accepted["status"])


@dataclass(frozen=True)
class Outcome:
    """How the drive went, beyond what it recorded request by request."""

    posted_in: float  # seconds from the start until the last post was answered
    elapsed: float  # seconds from the start until the stream delivered the last moderation
    approvals: list[bool]  # each regular's first comment approved through the admin API
    missing_links: list[str]  # held comments the run meant to moderate but found no link for
    drained: bool  # the stream delivered everything, both times


class Drive:
    """The traffic of one run against one target, and a record of every answer: `run` sends it
    all; the reconciliation reads the record and the target afterwards."""

    def __init__(
        self, target: Target, options: LoadOptions, plan: Plan, rng: random.Random
    ) -> None:
        self.target = target
        self.options = options
        self.plan = plan
        self.traffic = Traffic(target.api_url)
        self.addresses = Addresses(rng)
        self.answers: list[Answered] = []
        self.skipped: list[Post] = []
        self.ids: dict[str, str] = {}  # marker -> id of the accepted comment
        self.moderated: dict[str, str] = {}  # comment id -> status the run gave it
        self.read_statuses: Counter[int] = Counter()
        self.follows: list[tuple[str, str, str]] = []  # (comment id, action, link) followed
        self.notes: list[str] = []  # links that did not do what they say
        self._lock = threading.Lock()
        self._stop_reading = threading.Event()
        self._deadline = 0.0
        self._setup_at: dict[int, float] = {}  # regular -> when their first comment was in
        self._answered_at: dict[str, float] = {}  # marker -> when its post was accepted

    def stop_reading(self) -> None:
        self._stop_reading.set()

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
            self.expect_ok(self.traffic.send("read", "GET", f"/articles/{slug}"))
            self.walk(f"/articles/{slug}/comments", LISTING_PAGE, source, "read")
            if rounds % 3 == 0:
                self.walk("/articles", 2, source, "read", pages=2)
            rounds += 1

    def expect_ok(self, reply: Reply) -> Reply:
        with self._lock:
            self.read_statuses[reply.status] += 1
        return reply

    def walk(
        self, path: str, limit: int, source: str, purpose: str, *, pages: int = 1000
    ) -> list[list[dict[str, Any]]]:
        """Pages of a listing, following `next_cursor` (at most `pages`)."""
        found: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        for _ in range(pages):
            query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
            reply = self.expect_ok(
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
                self.notes.append(
                    f"link {action} for {comment_id} answered {reply.status} {reply.body[:120]!r}"
                )

    # the whole drive

    def run(self) -> Outcome:
        """Post (the regulars' first comments, their approval, then the rest) while reading;
        then moderate half the held comments through their email links, stop reading and let
        the stream deliver."""
        started = time.monotonic()
        self._deadline = started + self.options.seconds
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

        drained = self.drain(lambda: self.expected(final=False))
        outbox = self.outbox()
        held = sorted(
            (
                a
                for a in self.answers
                if a.post.role not in ("setup", "duplicate") and a.arrived == "pending"
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
        drained = self.drain(lambda: self.expected(final=True)) and drained
        elapsed = time.monotonic() - started

        return Outcome(posted_in, elapsed, approvals, missing_links, drained)

    # the record, as the notification rules see it

    def facts(self, *, final: bool) -> dict[str, CommentFacts]:
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

    def expected(self, *, final: bool) -> Counter[EmailKey]:
        return expected_emails(
            self.facts(final=final), authors=self.plan.authors, moderators=self.target.moderators
        )
