"""Many comments at once: each is stored once, duplicates are caught, every count stays right.

Two things stand between a test like this and the truth, and both are dealt with here:

- Powertools keeps the request being handled on the resolver *class* (`BaseRouter.current_event`),
  so two handlers running in threads of one process read each other's requests (source IP, body,
  path). Lambda runs one request per execution environment at a time; so does this test, with one
  worker process per environment (forked from a server that imported the handler once).
- moto is not thread-safe: its `TransactWriteItems` deep-copies the table, applies the actions
  one by one and restores the copy on failure, with no lock. DynamoDB applies each request
  atomically and in isolation; the embedded emulator (`newsroom_tools.emulator`) does too, by
  handling one request at a time. Reads and writes of different requests still interleave
  freely, which is what the code under test must withstand.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any

import pytest

from tests.apigw import Answer, invoke, rest_event
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    COMMENTS,
    article_comment_count,
    form,
    fresh_ip,
    own_content_table,
    queued_ids,
    stored_comments,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

ARTICLES = 4
COMMENTERS = 200
DUPLICATED = 3  # commenters who send one comment several times at once, from several addresses
COPIES = 4
# Enough execution environments for every race (the duplicated copies meet at once), and few
# enough that a post stays within the function's 10 s: the emulator serves one request at a
# time, so a post waits behind every other worker's request, and past its deadline the function
# rightly answers 503 (with 16 workers a slow CI machine's posts did, from DeadlineExceededError
# and read timeouts). The posts' total time is the emulator's, whatever the count.
WORKERS = 8
TIME_LIMIT_SECONDS = 180  # against a hang: the posts take some 30 s, about 60 s on one busy core
HOLD_WORD = "hold-for-review"


def become_execution_environment(environment: dict[str, str]) -> None:
    """Worker start: the function's environment, as Lambda sets it before the first request."""
    os.environ.update(environment)


def handle(event: dict[str, Any]) -> Answer:
    """One invocation of the comments function, in a worker process."""
    from functions.comments.app import lambda_handler

    return invoke(lambda_handler, event)


@pytest.fixture
def content_table(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """This test's own content table, in place of the session's (see `own_content_table`)."""
    with own_content_table(dynamodb, monkeypatch, stream=False) as table:
        yield table


@pytest.fixture
def execution_environments(content_table: str) -> Iterator[ProcessPoolExecutor]:
    """Worker processes running the comments function, one request at a time each.

    First comments are approved, unless they carry the hold word, so both statuses meet on
    every article.
    """
    environment = {
        "CONTENT_TABLE_NAME": content_table,
        "REQUIRE_PREVIOUS_APPROVAL": "false",
        "MODERATION_KEYS": json.dumps([HOLD_WORD]),
    }
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "functions.comments.app"])
    with ProcessPoolExecutor(
        max_workers=WORKERS,
        mp_context=context,
        initializer=become_execution_environment,
        initargs=(environment,),
    ) as workers:
        yield workers


def post_event(slug: str, comment: dict[str, Any]) -> dict[str, Any]:
    return rest_event(
        "POST",
        COMMENTS,
        path_params={"slug": slug},
        headers={"Content-Type": "application/json"},
        body=json.dumps(comment),
        source_ip=fresh_ip(),
    )


def test_concurrent_comments_are_stored_once_and_counted_right(
    content_table: str, unique: str, execution_environments: ProcessPoolExecutor
) -> None:
    # Given four articles, 200 commenters (every other one holding their comment for review,
    # spread over the articles) and three commenters who send the same comment four times
    # at once, each copy from another address
    slugs = [f"busy-{n}-{unique}" for n in range(ARTICLES)]
    for slug in slugs:
        seed(content_table, slug)
    requests: list[tuple[str, str, dict[str, Any]]] = []  # (who, slug, event)
    for n in range(COMMENTERS):
        body = f"Comment {n} ({unique})." + (f" {HOLD_WORD}" if n % 2 else "")
        comment = form(unique, reader=f"r{n}", body=body)
        requests.append((f"r{n}", slugs[n % ARTICLES], post_event(slugs[n % ARTICLES], comment)))
    for d in range(DUPLICATED):
        comment = form(unique, reader=f"dup{d}")
        position = (d + 1) * COMMENTERS // (DUPLICATED + 1)
        requests[position:position] = [
            (f"dup{d}", slugs[d], post_event(slugs[d], comment)) for _ in range(COPIES)
        ]

    # When they all post at once
    started = time.monotonic()
    futures = [execution_environments.submit(handle, event) for _, _, event in requests]
    _, unanswered = wait(futures, timeout=TIME_LIMIT_SECONDS)
    elapsed = time.monotonic() - started
    assert not unanswered, f"{len(unanswered)} posts unanswered after {TIME_LIMIT_SECONDS} s"
    answers = [future.result() for future in futures]

    # Then each commenter got one 201, and each duplicated comment one 201 and three 429s
    # (flood control is checked before duplicates: copies at once meet the email's guard)
    by_commenter: dict[str, list[Answer]] = {}
    for (who, _, _), answer in zip(requests, answers, strict=True):
        by_commenter.setdefault(who, []).append(answer)
    refused = {
        who: [(a.status, a.body) for a in got]
        for who, got in by_commenter.items()
        if not who.startswith("dup") and [a.status for a in got] != [201]
    }
    assert refused == {}
    for d in range(DUPLICATED):
        assert Counter(a.status for a in by_commenter[f"dup{d}"]) == {201: 1, 429: COPIES - 1}
    accepted = {
        answer.body["id"]: (slug, answer.body["status"])
        for (_, slug, _), answer in zip(requests, answers, strict=True)
        if answer.status == 201
    }
    assert len(accepted) == COMMENTERS + DUPLICATED, "two posts were given the same id"
    assert Counter(status for _, status in accepted.values()) == {
        "approved": COMMENTERS // 2 + DUPLICATED,
        "pending": COMMENTERS // 2,
    }

    # And every accepted comment is stored exactly once, on its article, with its status,
    # and each article counts exactly its approved comments
    for slug in slugs:
        stored = stored_comments(content_table, slug)
        expected = {cid: status for cid, (where, status) in accepted.items() if where == slug}
        assert sorted(c["id"] for c in stored) == sorted(expected)
        assert {c["id"]: c["status"] for c in stored} == expected
        approved = sum(1 for c in stored if c["status"] == "approved")
        assert article_comment_count(slug) == approved
    # And the moderation queues (which span the whole table) hold nothing else
    held = sorted(cid for cid, (_, status) in accepted.items() if status == "pending")
    assert sorted(queued_ids("pending")) == held
    assert queued_ids("spam") == queued_ids("trash") == []
    print(f"{len(requests)} posts answered in {elapsed:.1f} s")
