"""What the notifications function sends when a comment's author edits or deletes it: nothing
again about a public comment that stays public, the moderators' request (saying it was edited)
for one held after its edit, and nothing for a deletion. Stream records are built from the
items the comments function stored, before and after each change."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from newsroom_tools.outbox import OutboxEmail
from tests.integration.comments_api import delete_own_comment, edit_when_flood_allows
from tests.integration.notifications_stream import (
    batch,
    comment_item,
    delivered,
    handle,
    removal_record,
)
from tests.integration.test_notifications import (
    ALL_DONE,
    JSON,
    Scene,
    approve,
    auto_approve,
    changed,
    confirm_address,
    error_code,
    follow,
    form,
    inserted,
    marker,
    moderation_links,
    open_link,
    outbox,
    post_comment,
    scene,
    stored,
    tally,
)

pytestmark = pytest.mark.integration
__all__ = ["auto_approve", "scene"]  # fixtures of test_notifications

LINKS = "[one](https://one.example) and [two](https://two.example)"


def post(scene: Scene, reader: str, **fields: Any) -> tuple[str, str]:
    """A comment by `reader` through the comments function; (id, edit token)."""
    answer = post_comment(scene.slug, form(scene.unique, reader=reader, **fields))
    assert answer.status == 201, answer.body
    return str(answer.body["id"]), str(answer.body["edit_token"])


def edit(scene: Scene, comment_id: str, token: str, body: str) -> None:
    answer = edit_when_flood_allows(scene.slug, comment_id, body, token=token)
    assert answer.status == 200, answer.body


def moderation_emails(scene: Scene) -> list[OutboxEmail]:
    return list(outbox.emails(to=scene.moderators[0]))


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_edit_of_a_public_comment_sends_nobody_anything_again(scene: Scene) -> None:
    # Given a public comment whose author asked for replies (and confirmed), a public reply
    # to it, and the emails their arrival sent (the article's author twice, a reply notice)
    confirm_address(scene, "a")
    parent, _ = post(scene, "a", notify_replies=True)
    arrived = [inserted(scene, parent)]
    reply_id: list[str] = []
    reply_token: list[str] = []

    def reply() -> None:
        comment_id, token = post(scene, "b", parent_id=parent, body=marker(scene, "b"))
        reply_id.append(comment_id)
        reply_token.append(token)

    counted = changed(scene, parent, reply)  # the parent counts its reply
    arrived.append(inserted(scene, reply_id[0]))
    assert handle(batch(*arrived, counted)) == ALL_DONE
    before = tally(scene)
    assert before == Counter({scene.author: 2, scene.reader("a"): 1})

    # When the reply's author edits it (still public) and the record is handled, twice
    record = changed(
        scene, reply_id[0], lambda: edit(scene, reply_id[0], reply_token[0], "Edited reply.")
    )
    assert stored(scene, reply_id[0])["status"] == "approved"
    first, again = handle(batch(record)), handle(batch(record))

    # Then no second "new comment", no second reply notice, nothing to anyone
    assert first == again == ALL_DONE
    assert tally(scene) == before


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_edit_that_holds_a_public_comment_again_asks_the_moderators_saying_it_was_edited(
    scene: Scene,
) -> None:
    # Given a public comment, its arrival told to the article's author
    comment, token = post(scene, "a", body="Harmless.")
    assert handle(batch(inserted(scene, comment))) == ALL_DONE
    assert tally(scene) == Counter({scene.author: 1})

    # When its author edits links in, and the record is handled (and delivered again)
    new_text = f"Now see {LINKS} {marker(scene, 'a')}"
    record = changed(scene, comment, lambda: edit(scene, comment, token, new_text))
    assert stored(scene, comment)["status"] == "pending"
    first, again = handle(batch(record)), handle(batch(record))

    # Then each moderator is asked once, by an email that says it was edited, with the new
    # text and why it is held
    assert first == again == ALL_DONE
    assert tally(scene) == Counter({scene.author: 1, **dict.fromkeys(scene.moderators, 1)})
    (request,) = moderation_emails(scene)
    assert "edited" in request.subject
    assert "edited after posting" in (request.text or "")
    assert marker(scene, "a") in (request.text or "")
    assert "too many links" in (request.text or "")

    # And when a moderator approves it, the article's author is not told a second time
    approved = changed(scene, comment, approve(scene, comment))
    assert handle(batch(approved)) == ALL_DONE
    assert tally(scene) == Counter({scene.author: 1, **dict.fromkeys(scene.moderators, 1)})


@pytest.mark.usefixtures("quick_flood")
def test_edit_of_a_held_comment_sends_the_moderators_its_new_text(scene: Scene) -> None:
    # Given a held comment the moderators were asked about
    comment, token = post(scene, "a", body="First draft.")
    assert handle(batch(inserted(scene, comment))) == ALL_DONE
    assert tally(scene) == Counter(dict.fromkeys(scene.moderators, 1))

    # When its author edits it, once and then again
    second = changed(scene, comment, lambda: edit(scene, comment, token, "Second draft."))
    third = changed(scene, comment, lambda: edit(scene, comment, token, "Third draft."))
    assert handle(batch(second, third)) == ALL_DONE

    # Then the moderators get the text of each edit, each once, marked as edited
    assert tally(scene) == Counter(dict.fromkeys(scene.moderators, 3))
    edited = [sent.text or "" for sent in moderation_emails(scene) if "edited" in sent.subject]
    assert len(edited) == 2
    assert sorted(("Second draft." in text, "Third draft." in text) for text in edited) == [
        (False, True),
        (True, False),
    ]


@pytest.mark.usefixtures("quick_flood")
def test_a_moderation_link_sent_before_an_edit_does_not_act_on_the_edited_text(
    scene: Scene,
) -> None:
    # Given a held comment, and the moderation email about its first text
    comment, token = post(scene, "a", body="An innocent first text.")
    assert handle(batch(inserted(scene, comment))) == ALL_DONE
    (first_email,) = moderation_emails(scene)
    old_links = moderation_links(first_email)

    # When its author edits in another text, and a moderator then follows the old email's
    # approve link (opening it first, as a person does)
    new_text = f"Buy now {marker(scene, 'a')}"
    handled = changed(scene, comment, lambda: edit(scene, comment, token, new_text))
    opened = open_link(old_links["approve"], accept=JSON)
    followed = follow(old_links["approve"], accept=JSON)

    # Then the old link offers no button and approves nothing: the text the moderator read is
    # not the one it would publish
    assert opened.status == 200
    assert "button" not in opened.body or opened.body["button"] is None
    assert "edited after this email" in opened.body["message"]
    assert (followed.status, error_code(followed)) == (409, "link_outdated")
    assert stored(scene, comment)["status"] == "pending"

    # And the email about the edit carries links that do act on the new text
    assert handle(batch(handled)) == ALL_DONE
    (newer,) = [sent for sent in moderation_emails(scene) if "edited" in sent.subject]
    assert follow(moderation_links(newer)["approve"], accept=JSON).status == 200
    assert stored(scene, comment)["status"] == "approved"


@pytest.mark.usefixtures("auto_approve")
def test_delete_sends_nothing(scene: Scene) -> None:
    # Given a public comment, its arrival handled
    comment, token = post(scene, "a", notify_replies=True)
    assert handle(batch(inserted(scene, comment))) == ALL_DONE
    before = tally(scene)
    item = comment_item(scene.table, scene.slug, comment)

    # When its author deletes it
    assert delete_own_comment(scene.slug, comment, token=token).status == 204
    record = removal_record(scene.table, item)

    # Then Lambda does not deliver its record (the template's filter), and even delivered it
    # would send nothing
    assert not delivered(record)
    assert handle(batch(record)) == ALL_DONE
    assert tally(scene) == before
