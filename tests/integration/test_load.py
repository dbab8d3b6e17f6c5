"""The load run (`newsroom_tools.load`): a small one through a local system of its own, and its
reconciliation, which must catch an email sent twice or not at all."""

from __future__ import annotations

from collections import Counter

import pytest

from newsroom_tools.load.cli import main
from newsroom_tools.load.emails import CommentFacts, expected_emails, sent_emails
from newsroom_tools.load.options import LoadOptions
from newsroom_tools.load.plan import make_plan
from newsroom_tools.load.run import run_load

pytestmark = pytest.mark.integration

AUTHOR = "author@example.org"
MODERATORS = ["mod-1@example.com", "Mod-2@example.com"]


def test_small_load_run_stores_lists_counts_and_notifies_each_comment_once() -> None:
    # Given a small run: 40 posts from 8 writers while 4 readers read, at most 30 s of posting
    # (the flood interval shortened to 2 s so regulars may comment again within it)
    options = LoadOptions(
        posts=40, readers=4, writers=8, seconds=30, articles=3, flood_interval=2, seed=5
    )
    plan = make_plan("check", posts=options.posts, articles=options.articles)

    # When it runs through a local system of its own
    report = run_load(options)

    # Then every check of the reconciliation holds
    assert report.ok, report.render()
    # And it did what it says: every post sent, each distinct comment accepted once, emails out
    assert report.figures["posts_sent"] == plan.requests()
    assert report.figures["posts_skipped"] == 0
    assert report.figures["comments_loaded"] == len({p.marker for p in (*plan.setup, *plan.main)})
    assert report.figures["reads"] > 0
    assert report.figures["emails"] > report.figures["comments_loaded"]
    assert report.figures["lost"] == report.figures["dead_letters"] == 0
    print(report.render())


def facts() -> dict[str, CommentFacts]:
    """A parent held then approved (asked for replies), a reply approved at once by someone
    else, the article author's own comment, and a held comment marked as spam."""
    comments = [
        CommentFacts("c1", "s", "parent@example.org", True, None, "pending", "approved"),
        CommentFacts("c2", "s", "replier@example.org", False, "c1", "approved", "approved"),
        CommentFacts("c3", "s", "AUTHOR@example.org", True, "c1", "approved", "approved"),
        CommentFacts("c4", "s", "spammer@example.org", True, "c1", "pending", "spam"),
    ]
    return {comment.id: comment for comment in comments}


def test_expected_emails_follow_who_gets_what() -> None:
    # When the rules of docs/notifications.md are applied to the comments, the parent's author
    # having confirmed their address
    due = expected_emails(
        facts(),
        authors={"s": AUTHOR},
        moderators=[*MODERATORS, MODERATORS[0]],
        confirmed=["Parent@example.org"],
    )

    # Then each held comment goes to each moderator once, a public one to the article's author
    # unless they wrote it, a public reply to a parent who asked, and approval to its author
    assert due == Counter(
        {
            ("c1", "moderation", "mod-1@example.com"): 1,
            ("c1", "moderation", "mod-2@example.com"): 1,
            ("c1", "new_comment", AUTHOR): 1,
            ("c1", "comment_live", "parent@example.org"): 1,
            ("c2", "new_comment", AUTHOR): 1,
            ("c2", "reply", "parent@example.org"): 1,
            ("c3", "reply", "parent@example.org"): 1,
            ("c4", "moderation", "mod-1@example.com"): 1,
            ("c4", "moderation", "mod-2@example.com"): 1,
        }
    )


def test_expected_emails_hold_no_reply_notice_or_is_live_for_unconfirmed_addresses() -> None:
    # When the rules are applied to the same comments, no address having confirmed
    due = expected_emails(facts(), authors={"s": AUTHOR}, moderators=MODERATORS)

    # Then nothing carrying a comment goes to a commenter's address
    assert {kind for _, kind, _ in due} == {"moderation", "new_comment"}


def test_an_email_sent_twice_or_not_at_all_shows_in_the_reconciliation() -> None:
    # Given what the rules call for, and an outbox where one email went out twice, one never,
    # and one names no comment of the run
    due = expected_emails(
        facts(), authors={"s": AUTHOR}, moderators=MODERATORS, confirmed=["parent@example.org"]
    )
    ids = {f"ldrunnn{n:05d}": f"c{n}" for n in range(1, 5)}
    outbox = [
        {"number": n, "to": [to], "subject": subject, "text": f"... ldrunnn0000{comment[1]} ..."}
        for n, (comment, subject, to) in enumerate(
            [
                ("c1", 'Please moderate: "T"', "mod-1@example.com"),
                ("c1", 'Please moderate: "T"', "Mod-2@example.com"),
                ("c1", 'New comment on "T"', AUTHOR),
                ("c1", 'New comment on "T"', AUTHOR),
                ("c1", 'Your comment on "T" is live', "parent@example.org"),
                ("c2", 'New comment on "T"', AUTHOR),
                ("c2", 'New reply to your comment on "T"', "parent@example.org"),
                ("c4", 'Please moderate: "T"', "mod-1@example.com"),
                ("c4", 'Please moderate: "T"', "mod-2@example.com"),
            ]
        )
    ]
    outbox.append({"number": 99, "to": [AUTHOR], "subject": "Hello", "text": "ldrunnn00001"})

    # When the outbox is read back against it
    sent, unknown = sent_emails(outbox, marker_tag="ldrunnn", ids=ids)

    # Then the double, the missing one and the stranger are all found
    assert sent - due == Counter({("c1", "new_comment", AUTHOR): 1})
    assert due - sent == Counter({("c3", "reply", "parent@example.org"): 1})
    assert unknown == ["#99 'Hello' about ['ldrunnn00001']"]


@pytest.mark.parametrize(
    "arguments",
    [["--posts", "5"], ["--api", "http://example.com:3000"], ["--seconds", "0"]],
    ids=["too-few-posts", "not-loopback", "no-time"],
)
def test_load_refuses_to_start_outside_its_bounds(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # When the command is given a bound it does not accept
    status = main(arguments)

    # Then it says why in one line and starts nothing
    assert status == 2
    assert capsys.readouterr().err.startswith("newsroom load: ")
