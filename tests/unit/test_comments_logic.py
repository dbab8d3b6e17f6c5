"""The comment logic's decisions, with an in-memory store, fixed keys and a clock: what it
stores, which guards it asks storage to take, where a reply goes, what it answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newsroom.comments import CommentRules, Sender, delete_own, edit, moderate, submit
from newsroom.data.comments import FloodGuard
from newsroom.errors import (
    CommentFloodError,
    CommentsClosedError,
    DuplicateCommentError,
    EditTokenInvalidError,
    EditWindowClosedError,
    EmptyCommentError,
    FormTokenError,
    StatusConflictError,
)
from newsroom.models.articles import StoredArticle
from newsroom.models.comments import (
    AnsweredDuplicate,
    CommentEdit,
    CommentIn,
    Moderation,
    SenderData,
    StoredComment,
)
from newsroom.moderation import ModerationPolicy
from newsroom.privacy import commenter_key, duplicate_key, email_hash, ip_hash
from newsroom.secrets import Keyring
from newsroom.tokens import sign_edit, verify_edit
from tests.integration.articles_data import stored_article
from tests.unit.fakes import DiscardingCheck, FakeCommentStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CURRENT, PREVIOUS = b"c" * 32, b"p" * 32
SENDER = Sender(ip="198.51.100.7", user_agent="Mozilla/5.0")
SLUG = "harbour-news"


def article(**overrides: Any) -> StoredArticle:
    published = NOW - timedelta(days=3)
    return stored_article(
        SLUG, **({"published_at": published, "updated_at": published} | overrides)
    )


def rules(store: FakeCommentStore, **overrides: Any) -> CommentRules:
    values: dict[str, Any] = {
        "store": store,
        "keys": lambda: Keyring(CURRENT, (PREVIOUS,)),
        "policy": ModerationPolicy(),
        "clock": lambda: NOW,
    }
    return CommentRules(**(values | overrides))


def comment_form(**fields: Any) -> CommentIn:
    values = {"author_name": "Ann", "author_email": "ann@example.org", "body": "Lovely."}
    return CommentIn.model_validate(values | fields)


def stored(
    comment_id: str, parent: StoredComment | None = None, *, depth: int = 1, **fields: Any
) -> StoredComment:
    values: dict[str, Any] = {
        "id": comment_id,
        "slug": SLUG,
        "parent_id": parent.id if parent else None,
        "depth": depth,
        "path": f"{parent.path}/{comment_id}" if parent else comment_id,
        "author_name": "Bo",
        "author_email": "bo@example.org",
        "body_markdown": "Hi.",
        "body_html": "<p>Hi.</p>",
        "created_at": NOW - timedelta(hours=1),
        "status": "approved",
        "moderation": Moderation(rule="auto_approved", explanation="."),
        "avatar": "a",
        "commenter": "k",
        "duplicate_key": "d" + comment_id,
    }
    return StoredComment.model_validate(values | fields)


# -- what is stored, and the guards taken -------------------------------------------------------


def test_new_comment_is_stored_at_the_clocks_time_with_guards_for_each_key() -> None:
    # Given a keyring with a current and a previous key
    store = FakeCommentStore(article())

    # When a reader posts
    answer = submit(SLUG, comment_form(), SENDER, rules=rules(store))

    # Then the comment is stored as of now, keyed with the current key, and storage is asked
    # to take the current key's IP and email guards and check the previous key's
    insert = store.inserts[0]
    comment = insert["comment"]
    assert (answer.id, comment.created_at) == (comment.id, NOW)
    assert comment.commenter == commenter_key(CURRENT, "Ann", "ann@example.org")
    assert insert["flood_guards"] == [
        FloodGuard("ip", ip_hash(CURRENT, SENDER.ip)),
        FloodGuard("ip", ip_hash(PREVIOUS, SENDER.ip)),
        FloodGuard("email", email_hash(CURRENT, "ann@example.org")),
        FloodGuard("email", email_hash(PREVIOUS, "ann@example.org")),
    ]
    assert insert["flood_interval"] == timedelta(seconds=15)
    assert len(insert["earlier_duplicate_keys"]) == 1


def test_sender_ip_hash_is_stored_apart_from_the_comment_until_its_retention_ends() -> None:
    # Given a retention of 30 days
    store = FakeCommentStore(article())

    # When a reader posts
    submit(
        SLUG,
        comment_form(),
        SENDER,
        rules=rules(store, sender_data_retention=timedelta(days=30)),
    )

    # Then the IP hash is not on the comment but in its sender data, expiring in 30 days
    insert = store.inserts[0]
    assert "ip_hash" not in insert["comment"].model_dump()
    assert insert["sender_data"] == SenderData(
        ip_hash=ip_hash(CURRENT, SENDER.ip), expires_at=NOW + timedelta(days=30)
    )


def test_commenter_is_looked_up_under_every_key() -> None:
    # Given a commenter approved before the key was rotated
    store = FakeCommentStore(article())
    store.profiles[commenter_key(PREVIOUS, "Ann", "ann@example.org")] = 1

    # When they comment
    answer = submit(SLUG, comment_form(), SENDER, rules=rules(store))

    # Then they are previously approved
    assert answer.status == "approved"
    assert store.inserts[0]["comment"].moderation.rule == "previously_approved"


def test_flood_refusal_from_storage_reaches_the_reader() -> None:
    store = FakeCommentStore(article())
    store.refuse = CommentFloodError(15)

    with pytest.raises(CommentFloodError):
        submit(SLUG, comment_form(), SENDER, rules=rules(store))


def test_duplicate_is_answered_as_a_held_comment_and_not_stored() -> None:
    # Given storage finds the same comment from the same email already there
    store = FakeCommentStore(article())
    store.refuse = DuplicateCommentError()

    # When it is posted again
    answer = submit(SLUG, comment_form(), SENDER, rules=rules(store))

    # Then the answer is a held comment's, with an id, and nothing was kept
    assert answer.status == "pending"
    assert answer.id == store.inserts[0]["comment"].id
    assert store.comments == {}


def test_spam_is_answered_as_a_held_comment() -> None:
    store = FakeCommentStore(article())
    policy = ModerationPolicy(disallowed_keys=("casino",))

    answer = submit(SLUG, comment_form(body="casino"), SENDER, rules=rules(store, policy=policy))

    assert answer.status == "pending"
    assert store.inserts[0]["comment"].status == "spam"


def test_text_that_renders_as_nothing_is_refused_before_anything_is_stored() -> None:
    store = FakeCommentStore(article())

    with pytest.raises(EmptyCommentError):
        submit(SLUG, comment_form(body="[ ](https://a.example)"), SENDER, rules=rules(store))

    assert store.inserts == []


# -- closing by age, by the clock ------------------------------------------------------------


@pytest.mark.parametrize(("age_days", "closed"), [(29, False), (30, False), (31, True)])
def test_comments_close_once_the_article_is_older_than_the_setting(
    age_days: int, closed: bool
) -> None:
    # Given comments close 30 days after publication
    published = NOW - timedelta(days=age_days)
    store = FakeCommentStore(article(published_at=published, updated_at=published))
    closing = rules(store, close_after=timedelta(days=30))

    # When a reader posts on an article of that age
    if closed:
        with pytest.raises(CommentsClosedError):
            submit(SLUG, comment_form(), SENDER, rules=closing)
    else:
        submit(SLUG, comment_form(), SENDER, rules=closing)

    # Then only an article older than the limit refuses
    assert len(store.inserts) == (0 if closed else 1)


# -- threading ---------------------------------------------------------------------------------


def test_reply_to_the_deepest_level_becomes_the_parents_sibling() -> None:
    # Given a chain of approved comments five deep
    store = FakeCommentStore(article())
    chain = [stored("c000000000001aaaaaaaa")]
    for depth in range(2, 6):
        chain.append(stored(f"c00000000000{depth}aaaaaaaa", chain[-1], depth=depth))
    for comment in chain:
        store.comments[(SLUG, comment.id)] = comment

    # When a reader replies to the deepest
    submit(SLUG, comment_form(parent_id=chain[-1].id), SENDER, rules=rules(store))

    # Then the reply sits beside it, under the same parent, at the same depth
    reply = store.inserts[0]["comment"]
    assert (reply.parent_id, reply.depth) == (chain[3].id, 5)
    assert reply.path == f"{chain[3].path}/{reply.id}"


# -- moderation --------------------------------------------------------------------------------


def test_moderation_records_who_and_when_by_the_clock() -> None:
    store = FakeCommentStore(article())
    held = stored("c0000000000aaaaaaaaaa", status="pending")
    store.comments[(SLUG, held.id)] = held

    change = moderate(SLUG, held.id, "approve", by="arn:aws:iam::1:user/mod", rules=rules(store))

    assert (change.previous_status, change.status) == ("pending", "approved")
    decided = store.comments[(SLUG, held.id)].moderation
    assert (decided.by, decided.at) == ("arn:aws:iam::1:user/mod", NOW)


def test_applying_the_status_a_comment_has_changes_nothing() -> None:
    store = FakeCommentStore(article())
    approved = stored("c0000000000aaaaaaaaaa")
    store.comments[(SLUG, approved.id)] = approved

    change = moderate(SLUG, approved.id, "approve", by="mod", rules=rules(store))

    assert (change.previous_status, change.status) == ("approved", "approved")
    assert store.changes == []


def test_link_acts_only_on_a_comment_still_held() -> None:
    store = FakeCommentStore(article())
    spam = stored("c0000000000aaaaaaaaaa", status="spam")
    store.comments[(SLUG, spam.id)] = spam

    with pytest.raises(StatusConflictError):
        moderate(SLUG, spam.id, "approve", by="link", expected_status="pending", rules=rules(store))
    assert store.changes == []


# -- its author's edits ------------------------------------------------------------------------

WINDOW = timedelta(minutes=15)


def own_comment(store: FakeCommentStore, now: datetime, **fields: Any) -> tuple[StoredComment, str]:
    """A comment posted a minute before `now`, stored, and its edit token."""
    comment = stored("c0000000000aaaaaaaaaa", created_at=now - timedelta(minutes=1), **fields)
    store.comments[(SLUG, comment.id)] = comment
    return comment, sign_edit(Keyring(CURRENT, (PREVIOUS,)), slug=SLUG, comment_id=comment.id)


def edit_rules(store: FakeCommentStore, now: datetime, **overrides: Any) -> CommentRules:
    return rules(store, clock=lambda: now, **overrides)


TWO_LINKS = "See [a](https://a.example) and [b](https://b.example)."


@pytest.mark.parametrize(
    ("status", "text", "kept", "answered"),
    [
        pytest.param("approved", "Fixed a typo.", "approved", "approved", id="approved-stays"),
        pytest.param("approved", TWO_LINKS, "pending", "pending", id="approved-held-again"),
        pytest.param("approved", "casino night", "spam", "pending", id="approved-to-spam"),
        pytest.param("pending", "Fixed a typo.", "pending", "pending", id="held-stays-held"),
        pytest.param("pending", "casino night", "spam", "pending", id="held-to-spam"),
        pytest.param("spam", "Fixed a typo.", "spam", "pending", id="spam-stays-spam"),
        pytest.param("trash", "casino night", "trash", "pending", id="trash-stays-trash"),
    ],
)
def test_an_edit_is_judged_again_and_never_leaves_a_stricter_status(
    status: str, text: str, kept: str, answered: str
) -> None:
    # Given a comment of its author's, in one status, and a policy with a disallowed word
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    comment, token = own_comment(store, now, status=status)
    policy = ModerationPolicy(disallowed_keys=("casino",), require_previous_approval=False)

    # When its author edits it
    answer = edit(
        SLUG,
        comment.id,
        CommentEdit(body=text),
        SENDER,
        token=token,
        rules=edit_rules(store, now, policy=policy),
    )

    # Then it has the stricter of its status and the new text's verdict, answered as a post
    # would be (spam as held), and the edit is recorded
    edited = store.edits[0]["edited"]
    assert (edited.status, answer.status) == (kept, answered)
    assert (edited.body_markdown, edited.revision, edited.edited_at) == (text, 1, now)
    assert edited.moderation.edited_at == now
    assert answer.editable_until == comment.created_at + WINDOW


def test_a_held_comment_keeps_the_reason_it_was_held_for_when_its_edit_would_pass() -> None:
    # Given a comment held for its links, where a comment without links would be approved
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    held = Moderation(rule="too_many_links", explanation="It contains too many links.")
    comment, token = own_comment(store, now, status="pending", moderation=held)
    lenient = edit_rules(store, now, policy=ModerationPolicy(require_previous_approval=False))

    # When its author takes the links out
    answer = edit(
        SLUG, comment.id, CommentEdit(body="No links."), SENDER, token=token, rules=lenient
    )

    # Then it stays held, for the reason it was held for, now marked as edited
    edited = store.edits[0]["edited"]
    assert (answer.status, edited.status) == ("pending", "pending")
    assert (edited.moderation.rule, edited.moderation.edited_at) == ("too_many_links", now)


def test_an_edit_takes_its_authors_guards_under_every_key() -> None:
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    comment, token = own_comment(store, now)

    edit(
        SLUG,
        comment.id,
        CommentEdit(body="New."),
        SENDER,
        token=token,
        rules=edit_rules(store, now),
    )

    done = store.edits[0]
    assert done["flood_guards"] == [
        FloodGuard("ip", ip_hash(CURRENT, SENDER.ip)),
        FloodGuard("ip", ip_hash(PREVIOUS, SENDER.ip)),
        FloodGuard("email", email_hash(CURRENT, "bo@example.org")),
        FloodGuard("email", email_hash(PREVIOUS, "bo@example.org")),
    ]
    assert done["edited"].duplicate_key == duplicate_key(CURRENT, SLUG, "bo@example.org", "New.")
    assert done["earlier_duplicate_keys"] == [
        duplicate_key(PREVIOUS, SLUG, "bo@example.org", "New.")
    ]


@pytest.mark.parametrize(
    ("posted_ago", "clock_later", "replies"),
    [
        pytest.param(timedelta(minutes=15, seconds=1), timedelta(0), 0, id="posted-too-long-ago"),
        pytest.param(timedelta(minutes=1), timedelta(minutes=15, seconds=1), 0, id="token-too-old"),
        pytest.param(timedelta(minutes=1), timedelta(0), 1, id="replied-to"),
    ],
)
def test_no_edit_or_delete_once_the_window_closed_or_a_reply_exists(
    posted_ago: timedelta, clock_later: timedelta, replies: int
) -> None:
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    comment, token = own_comment(store, now, replies=replies)
    store.comments[(SLUG, comment.id)] = comment.model_copy(update={"created_at": now - posted_ago})
    late = edit_rules(store, now + clock_later)

    with pytest.raises(EditWindowClosedError):
        edit(SLUG, comment.id, CommentEdit(body="New."), SENDER, token=token, rules=late)
    with pytest.raises(EditWindowClosedError):
        delete_own(SLUG, comment.id, token=token, rules=late)
    assert store.edits == []
    assert (SLUG, comment.id) in store.comments


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        sign_edit(Keyring(CURRENT), slug="another-story", comment_id="c0000000000aaaaaaaaaa"),
        sign_edit(Keyring(CURRENT), slug=SLUG, comment_id="c0000000000bbbbbbbbbb"),
        sign_edit(Keyring(b"o" * 32), slug=SLUG, comment_id="c0000000000aaaaaaaaaa"),
    ],
    ids=["none", "empty", "another-article", "another-comment", "another-key"],
)
def test_only_this_comments_token_may_edit_or_delete_it(token: str | None) -> None:
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    comment, _ = own_comment(store, now)

    with pytest.raises(EditTokenInvalidError):
        edit(
            SLUG,
            comment.id,
            CommentEdit(body="Mine now."),
            SENDER,
            token=token,
            rules=edit_rules(store, now),
        )
    with pytest.raises(EditTokenInvalidError):
        delete_own(SLUG, comment.id, token=token, rules=edit_rules(store, now))
    assert (store.edits, store.comments[(SLUG, comment.id)]) == ([], comment)


def test_a_token_of_the_previous_key_still_works() -> None:
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    comment, _ = own_comment(store, now)
    before_rotation = sign_edit(Keyring(PREVIOUS), slug=SLUG, comment_id=comment.id)

    edit(
        SLUG,
        comment.id,
        CommentEdit(body="Still mine."),
        SENDER,
        token=before_rotation,
        rules=edit_rules(store, now),
    )

    assert len(store.edits) == 1


def test_a_duplicate_is_kept_until_its_window_ends_and_answered_with_its_own_token() -> None:
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    store.refuse = DuplicateCommentError()

    answer = submit(SLUG, comment_form(), SENDER, rules=edit_rules(store, now))

    assert store.inserts[0]["duplicate_kept_until"] == now + WINDOW
    assert (answer.status, answer.editable_until) == ("pending", now + WINDOW)
    claim = verify_edit(Keyring(CURRENT), answer.edit_token)
    assert (claim.slug, claim.comment_id) == (SLUG, answer.id)


def test_edit_of_a_duplicate_answered_as_held_takes_its_authors_guards_and_stores_nothing() -> None:
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    duplicate = AnsweredDuplicate(
        id="c0000000000ddddddddd0", slug=SLUG, author_email="dee@example.org", created_at=now
    )
    store.duplicates[(SLUG, duplicate.id)] = duplicate
    token = sign_edit(Keyring(CURRENT), slug=SLUG, comment_id=duplicate.id)

    answer = edit(
        SLUG,
        duplicate.id,
        CommentEdit(body="New."),
        SENDER,
        token=token,
        rules=edit_rules(store, now),
    )

    assert (answer.id, answer.status) == (duplicate.id, "pending")
    assert store.floods[0]["flood_guards"][2:] == [
        FloodGuard("email", email_hash(CURRENT, "dee@example.org")),
        FloodGuard("email", email_hash(PREVIOUS, "dee@example.org")),
    ]
    assert (store.edits, store.comments) == ([], {})
    delete_own(SLUG, duplicate.id, token=token, rules=edit_rules(store, now))
    assert store.duplicates == {}


# -- a content check's discard ----------------------------------------------------------------


APPROVING = ModerationPolicy(require_previous_approval=False)


def test_a_comment_a_check_says_to_discard_is_answered_as_held_and_stores_nothing() -> None:
    # Given a content check that says to discard what the rules approve
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    discarding = edit_rules(store, now, policy=APPROVING, checks=(DiscardingCheck(),))

    # When a comment is posted
    answer = submit(SLUG, comment_form(), SENDER, rules=discarding)

    # Then it is answered as a held comment is, with its own working edit token ...
    assert (answer.status, answer.editable_until) == ("pending", now + WINDOW)
    claim = verify_edit(Keyring(CURRENT), answer.edit_token)
    assert (claim.slug, claim.comment_id) == (SLUG, answer.id)
    # ... nothing is inserted, only what the token needs kept until the window ends, and the
    # sender's flood guards are taken as for any post
    assert (store.inserts, store.comments) == ([], {})
    [discarded] = store.discards
    assert (discarded["comment"].id, discarded["kept_until"]) == (answer.id, now + WINDOW)
    assert discarded["flood_guards"] == [
        FloodGuard("ip", ip_hash(CURRENT, SENDER.ip)),
        FloodGuard("ip", ip_hash(PREVIOUS, SENDER.ip)),
        FloodGuard("email", email_hash(CURRENT, "ann@example.org")),
        FloodGuard("email", email_hash(PREVIOUS, "ann@example.org")),
    ]


def test_a_discarded_comment_is_edited_and_deleted_as_a_held_comment_is() -> None:
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    discarding = edit_rules(store, now, policy=APPROVING, checks=(DiscardingCheck(),))
    answer = submit(SLUG, comment_form(), SENDER, rules=discarding)

    edited = edit(
        SLUG, answer.id, CommentEdit(body="New."), SENDER, token=answer.edit_token, rules=discarding
    )

    assert (edited.id, edited.status, edited.editable_until) == (answer.id, "pending", now + WINDOW)
    assert (store.edits, store.comments) == ([], {})
    assert len(store.floods) == 1  # the edit took the flood guards
    delete_own(SLUG, answer.id, token=answer.edit_token, rules=discarding)
    assert store.duplicates == {}


def test_an_edit_a_check_says_to_discard_makes_the_stored_comment_spam() -> None:
    # Given an approved comment of its author's
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    comment, token = own_comment(store, now)
    discarding = edit_rules(store, now, policy=APPROVING, checks=(DiscardingCheck(),))

    # When its author edits it and a check says to discard the new text
    answer = edit(SLUG, comment.id, CommentEdit(body="New."), SENDER, token=token, rules=discarding)

    # Then it is kept, as spam, with the check's reason, and answered as held
    edited = store.edits[0]["edited"]
    assert (edited.status, edited.moderation.keyword, answer.status) == (
        "spam",
        "blatant",
        "pending",
    )
    assert [c.outcome for c in edited.moderation.checks] == ["discard"]
    assert store.discards == []


# -- the minimum time between loading the form and posting ---------------------------------------

FORM_TIME = ModerationPolicy(require_previous_approval=False, minimum_form_seconds=3)


def form_token(seconds_ago: float, keys: Keyring | None = None) -> str:
    from newsroom.form_time import issue

    return issue(keys or Keyring(CURRENT), now=NOW - timedelta(seconds=seconds_ago))


def test_with_a_minimum_form_time_a_comment_posted_too_soon_is_stored_held_with_why() -> None:
    store = FakeCommentStore(article())

    answer = submit(
        SLUG,
        comment_form(form_token=form_token(1.2)),
        SENDER,
        rules=rules(store, policy=FORM_TIME),
    )

    comment = store.inserts[0]["comment"]
    assert (answer.status, comment.status) == ("pending", "pending")
    assert comment.moderation.rule == "posted_too_soon"
    assert comment.moderation.explanation == (
        "It was posted 1.2 s after the form was loaded; minimum 3 s."
    )


def test_with_a_minimum_form_time_a_comment_posted_after_it_gets_the_usual_verdict() -> None:
    store = FakeCommentStore(article())

    # A token of the previous key counts too (a rotation in between)
    answer = submit(
        SLUG,
        comment_form(form_token=form_token(3, Keyring(PREVIOUS))),
        SENDER,
        rules=rules(store, policy=FORM_TIME),
    )

    assert answer.status == "approved"
    assert store.inserts[0]["comment"].moderation.rule == "auto_approved"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        pytest.param(None, "form_token_missing", id="missing"),
        pytest.param(form_token(0, Keyring(b"x" * 32)), "form_token_invalid", id="foreign"),
        pytest.param(form_token(86_401), "form_token_expired", id="expired"),
    ],
)
def test_with_a_minimum_form_time_a_comment_without_a_good_token_is_refused_unstored(
    token: str | None, code: str
) -> None:
    store = FakeCommentStore(article())

    with pytest.raises(FormTokenError) as refused:
        submit(SLUG, comment_form(form_token=token), SENDER, rules=rules(store, policy=FORM_TIME))

    assert refused.value.code == code
    assert store.inserts == []


def test_without_a_minimum_form_time_the_token_is_not_asked_for_nor_read() -> None:
    store = FakeCommentStore(article())
    off = ModerationPolicy(require_previous_approval=False)

    without = submit(SLUG, comment_form(), SENDER, rules=rules(store, policy=off))
    foreign = submit(
        SLUG,
        comment_form(author_email="bo@example.org", form_token=form_token(0, Keyring(b"x" * 32))),
        SENDER,
        rules=rules(store, policy=off),
    )

    assert (without.status, foreign.status) == ("approved", "approved")


def test_an_edit_is_not_timed_against_its_form() -> None:
    # Given a minimum form time, and a comment of its author's posted a minute ago
    now = datetime.now(UTC)
    store = FakeCommentStore(article())
    comment, token = own_comment(store, now)

    # When its author edits it at once (an edit carries no form token)
    answer = edit(
        SLUG,
        comment.id,
        CommentEdit(body="Fixed a typo."),
        SENDER,
        token=token,
        rules=edit_rules(store, now, policy=FORM_TIME),
    )

    # Then it is judged as ever
    assert answer.status == "approved"
    assert store.edits[0]["edited"].moderation.rule == "auto_approved"
