"""What opening and following a signed link decides, with in-memory stores and fixed keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from newsroom.comments import CommentRules
from newsroom.errors import CommentNotFoundError, LinkInvalidError, LinkUsedError
from newsroom.links import LinkRules, follow_link, open_link
from newsroom.privacy import subscriber_key
from newsroom.secrets import Keyring
from newsroom.tokens import LinkAction, sign
from tests.integration.articles_data import stored_article
from tests.unit.fakes import FakeArticleReader, FakeCommentStore
from tests.unit.test_comments_logic import SLUG, stored

KEYS = Keyring(b"c" * 32, (b"p" * 32,))
COMMENT_ID = "c0000000000aaaaaaaaaa"


class FakeNotifications:
    """The subscriber records and reply-notice switches links change."""

    def __init__(self) -> None:
        self.confirmed: dict[str, Any] = {}
        self.stopped: list[tuple[str, str]] = []
        self.known = {(SLUG, COMMENT_ID)}

    def stop_reply_notices(self, slug: str, comment_id: str) -> bool:
        self.stopped.append((slug, comment_id))
        return (slug, comment_id) in self.known

    def confirm_subscriber(self, key: str, *, at: datetime, spend_token: Any = None) -> None:
        self.confirmed[key] = spend_token


class Site:
    """One article with one comment, and the link rules over them."""

    def __init__(self, status: str = "pending") -> None:
        self.store = FakeCommentStore(stored_article(SLUG, title="Harbour news"))
        self.comment = stored(COMMENT_ID, status=status, body_markdown="Well said,\n  all.")
        self.store.comments[(SLUG, COMMENT_ID)] = self.comment
        self.notifications = FakeNotifications()
        self.rules = LinkRules(
            keys=lambda: KEYS,
            action_days=7,
            unsubscribe_days=90,
            confirmation_days=7,
            comments=CommentRules(store=self.store, keys=lambda: KEYS),
            notifications=self.notifications,  # type: ignore[arg-type]
            articles=FakeArticleReader(*self.store.articles.values()),
        )

    def link(self, action: LinkAction, keys: Keyring = KEYS) -> str:
        return sign(keys, slug=SLUG, comment_id=COMMENT_ID, action=action)


def test_opening_names_the_comment_and_changes_nothing() -> None:
    site = Site()

    page = open_link(site.link("approve"), rules=site.rules)

    assert (page.button, page.action, page.done) == ("Approve", "approve", False)
    assert page.comment is not None
    assert (page.comment.article_title, page.comment.excerpt) == ("Harbour news", "Well said, all.")
    assert site.store.changes == []


def test_link_signed_with_the_previous_key_still_acts() -> None:
    site = Site()

    page = follow_link(site.link("approve", Keyring(KEYS.previous[0])), rules=site.rules)

    assert page.done
    assert site.store.changes == [(COMMENT_ID, "approved")]


def test_link_signed_with_another_key_is_invalid() -> None:
    site = Site()

    with pytest.raises(LinkInvalidError):
        follow_link(site.link("approve", Keyring(b"x" * 32)), rules=site.rules)


def test_moderation_link_on_a_comment_no_longer_held_says_what_it_became() -> None:
    site = Site(status="spam")

    with pytest.raises(LinkUsedError, match="already spam"):
        follow_link(site.link("approve"), rules=site.rules)
    assert site.store.changes == []


def test_confirming_records_the_authors_address_under_the_current_key_spending_the_link() -> None:
    site = Site(status="approved")

    follow_link(site.link("confirm_replies"), rules=site.rules)

    (key, spent), *others = site.notifications.confirmed.items()
    assert others == []
    assert key == subscriber_key(KEYS.current, site.comment.author_email)
    assert spent is not None


def test_unsubscribing_from_a_deleted_comment_is_not_found() -> None:
    site = Site(status="approved")
    site.notifications.known.clear()

    with pytest.raises(CommentNotFoundError):
        follow_link(site.link("unsubscribe"), rules=site.rules)
