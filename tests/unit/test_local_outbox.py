"""The local outbox: MIME messages parsed, listed newest first, and shown safely in a browser."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import pytest

from newsroom_tools.apigateway import HttpRequest, HttpResponse
from newsroom_tools.outbox import (
    OUTBOX_PATH,
    Outbox,
    OutboxEmail,
    parse_raw,
    render_page,
)

SEEN_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


def mime(
    *,
    to: str = "Reader <reader@example.com>",
    subject: str = "New reply to your comment",
    text: str = "Someone replied.\nRead it: https://news.example/articles/a",
    html: str | None = '<p>Someone replied. <a href="https://news.example/articles/a">Read</a></p>',
    date: datetime | None = None,
) -> str:
    message = EmailMessage()
    message["From"] = "Newsroom <newsroom@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message["List-Unsubscribe"] = "<https://news.example/unsubscribe?t=abc>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if date is not None:
        message["Date"] = format_datetime(date)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_string()


def sent(raw: str, message_id: str, destinations: list[str] | None = None) -> SimpleNamespace:
    """What moto keeps for a raw send."""
    return SimpleNamespace(
        id=message_id,
        source="newsroom@example.com",
        destinations=destinations or [],
        raw_data=raw,
    )


def get(outbox: Outbox, target: str, accept: str = "*/*", method: str = "GET") -> HttpResponse:
    return outbox.route(HttpRequest(method, target, (("Accept", accept),)))


# Parsing


def test_raw_message_gives_text_html_and_every_header() -> None:
    raw = mime(date=datetime(2024, 4, 30, 8, 30, tzinfo=UTC))

    parsed = parse_raw(
        raw,
        message_id="m1",
        seen_at=SEEN_AT,
        destinations=["reader@example.com", "Reader <reader@example.com>"],
    )

    assert parsed.sender == "Newsroom <newsroom@example.com>"
    assert parsed.to == ("Reader <reader@example.com>",)
    assert parsed.envelope == ("reader@example.com",)
    assert parsed.subject == "New reply to your comment"
    assert parsed.text == "Someone replied.\nRead it: https://news.example/articles/a\n"
    assert parsed.html is not None
    assert '<a href="https://news.example/articles/a">' in parsed.html
    assert parsed.header("list-unsubscribe") == "<https://news.example/unsubscribe?t=abc>"
    assert parsed.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert parsed.sent_at == datetime(2024, 4, 30, 8, 30, tzinfo=UTC)


def test_subject_folded_after_the_colon_has_no_leading_space() -> None:
    raw = "From: a@example.com\nTo: b@example.com\nSubject:\n Please moderate\n\nBody\n"

    parsed = parse_raw(raw, message_id="m1", seen_at=SEEN_AT)

    assert parsed.subject == "Please moderate"
    assert parsed.header("Subject") == "Please moderate"


def test_message_without_date_is_dated_when_first_seen() -> None:
    parsed = parse_raw(mime(), message_id="m1", seen_at=SEEN_AT)

    assert parsed.sent_at == SEEN_AT


def test_encoded_subject_and_non_ascii_text_are_decoded() -> None:
    raw = mime(subject="Réponse à « Été »", text="Merci, Zoë — à bientôt", html=None)

    parsed = parse_raw(raw, message_id="m1", seen_at=SEEN_AT)

    assert "=?utf-8?" in raw  # the header really was encoded on the wire
    assert parsed.subject == "Réponse à « Été »"
    assert parsed.text == "Merci, Zoë — à bientôt\n"
    assert parsed.html is None


# The outbox


def test_outbox_lists_newest_first_filters_by_recipient_and_finds_one() -> None:
    # Given two emails sent, to two readers
    store: list[Any] = [
        sent(mime(to="ada@example.com", subject="first"), "m1"),
        sent(mime(to="bob@example.com", subject="second"), "m2"),
    ]
    outbox = Outbox(lambda: store)

    # Then they are listed newest first, one reader's alone, and found by number or id
    assert [e.subject for e in outbox.emails()] == ["second", "first"]
    assert [e.subject for e in outbox.emails(to="ADA@example.com")] == ["first"]
    assert [e.number for e in outbox.emails()] == [2, 1]
    found = outbox.get("1")
    assert found is not None
    assert found.subject == "first"
    found = outbox.get("m2")
    assert found is not None
    assert found.subject == "second"
    assert outbox.get("3") is None


def test_one_readers_emails_and_one_email_are_found_parsing_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an outbox of many emails (a test process's emulator keeps every test's), among them
    # one to Ada by her envelope only, one to her in Cc, and one sent as a Simple email
    store: list[Any] = [sent(mime(to=f"reader{n}@example.com"), f"m{n}") for n in range(50)]
    store.append(sent(mime(to="undisclosed-recipients:;"), "bcc", ["Ada@Example.com"]))
    copied = EmailMessage()
    copied["To"], copied["Cc"], copied["Subject"] = "bob@example.com", "ada@example.com", "cc"
    copied.set_content("A copy.")
    store.append(sent(copied.as_string(), "cc"))
    store.append(
        SimpleNamespace(
            id="simple",
            source="newsroom@example.com",
            subject="simple",
            body="Hello",
            destinations={"ToAddresses": ["ada@example.com"]},
        )
    )
    parsed: list[str] = []

    def counting_parse(raw: str, **kwargs: Any) -> OutboxEmail:
        parsed.append(kwargs["message_id"])
        return parse_raw(raw, **kwargs)

    monkeypatch.setattr("newsroom_tools.outbox.parse_raw", counting_parse)
    outbox = Outbox(lambda: store)

    # When Ada's emails are asked for, then one email by number and one by id
    adas = [e.id for e in outbox.emails(to="ada@example.com")]
    by_number = outbox.get("7")
    by_id = outbox.get("m9")

    # Then all three of hers are found, and only they and the two asked for were parsed
    assert adas == ["simple", "cc", "bcc"]
    assert by_number is not None
    assert by_number.id == "m6"
    assert by_id is not None
    assert by_id.number == 10
    assert sorted(parsed) == ["bcc", "cc", "m6", "m9"]


def test_listing_shows_the_newest_hundred_and_says_there_are_more() -> None:
    # Given 150 emails sent, every third to Ada
    store: list[Any] = [
        sent(mime(to="ada@example.com" if n % 3 == 0 else f"r{n}@example.com"), f"m{n}")
        for n in range(1, 151)
    ]
    outbox = Outbox(lambda: store)

    # When the outbox is listed as it is, with a limit, and Ada's with a limit
    listing = get(outbox, OUTBOX_PATH, accept="application/json")
    listed = json.loads(listing.body)
    limited = json.loads(get(outbox, f"{OUTBOX_PATH}?format=json&limit=3").body)
    adas = json.loads(get(outbox, f"{OUTBOX_PATH}?format=json&to=ada%40example.com&limit=2").body)
    page = get(outbox, OUTBOX_PATH, accept="text/html").body.decode()
    everything = get(outbox, f"{OUTBOX_PATH}?limit=150", accept="text/html").body.decode()

    # Then each gives the newest, and the page says older ones are left out, only when they are
    assert [item["id"] for item in listed] == [f"m{n}" for n in range(150, 50, -1)]
    assert listing.header("Link") == f'<{OUTBOX_PATH}?limit=200>; rel="next"'
    assert [item["id"] for item in limited] == ["m150", "m149", "m148"]
    assert [item["id"] for item in adas] == ["m150", "m147"]
    assert "The newest 100 emails" in page
    assert f'href="{OUTBOX_PATH}?limit=200"' in page
    assert "150 emails sent" in everything
    assert get(outbox, f"{OUTBOX_PATH}?format=json&limit=150").header("Link") is None
    assert "show more" not in everything


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "2.5", "10001", "%C2%B2"])
def test_a_limit_that_is_not_a_count_is_refused_naming_it(limit: str) -> None:
    outbox = Outbox(lambda: [sent(mime(), "m1")])

    response = get(outbox, f"{OUTBOX_PATH}?limit={limit}", accept="application/json")

    assert response.status == 400
    error = json.loads(response.body)["error"]
    assert error["code"] == "invalid_limit"
    assert error["message"].startswith("limit must be")


def test_json_list_when_asked_for_json() -> None:
    store: list[Any] = [sent(mime(to="ada@example.com"), "m1")]
    outbox = Outbox(lambda: store)

    by_header = get(outbox, OUTBOX_PATH, accept="application/json")
    by_query = get(outbox, f"{OUTBOX_PATH}?format=json", accept="text/html")

    for response in (by_header, by_query):
        assert response.status == 200
        assert response.header("Content-Type") == "application/json"
        (item,) = json.loads(response.body)
        assert item["id"] == "m1"
        assert item["to"] == ["ada@example.com"]
        assert item["headers"]["List-Unsubscribe"] == "<https://news.example/unsubscribe?t=abc>"
        assert item["text"].startswith("Someone replied.")
        assert item["html"].startswith("<p>Someone replied.")


def test_one_email_by_number_and_404_for_none() -> None:
    store: list[Any] = [sent(mime(subject="only"), "m1")]
    outbox = Outbox(lambda: store)

    found = get(outbox, f"{OUTBOX_PATH}/1")
    missing = get(outbox, f"{OUTBOX_PATH}/7")

    assert found.status == 200
    assert json.loads(found.body)["subject"] == "only"
    assert missing.status == 404


def test_delete_and_post_clear_empty_the_outbox() -> None:
    store: list[Any] = [sent(mime(), "m1")]
    outbox = Outbox(lambda: store)

    deleted = get(outbox, OUTBOX_PATH, method="DELETE")
    store.append(sent(mime(), "m2"))
    cleared_from_page = get(outbox, f"{OUTBOX_PATH}/clear", accept="text/html", method="POST")

    assert deleted.status == 204
    assert cleared_from_page.status == 303
    assert cleared_from_page.header("Location") == OUTBOX_PATH
    assert store == []
    assert outbox.emails() == []


def test_other_methods_are_refused_with_allow() -> None:
    outbox = Outbox(lambda: [])

    response = get(outbox, OUTBOX_PATH, method="POST")

    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD, DELETE"


def test_outbox_of_an_emulator_in_another_process_answers_501() -> None:
    outbox = Outbox.unavailable("The emulator runs in another process.")

    response = get(outbox, OUTBOX_PATH, accept="application/json")

    assert response.status == 501
    assert json.loads(response.body)["error"]["message"] == "The emulator runs in another process."


# The page


def hostile_email() -> OutboxEmail:
    raw = mime(
        to=f'"{HOSTILE}" <victim@example.com>',
        subject=f"Re: {HOSTILE}",
        text=f"Text {HOSTILE} & more",
        html=f'<p onclick="alert(2)">Hi</p>{HOSTILE}<a href="https://news.example/x">link</a>',
    )
    return parse_raw(raw, message_id=f"id-{HOSTILE}", seen_at=SEEN_AT, number=1)


def test_page_escapes_everything_from_the_message() -> None:
    page = render_page([hostile_email()])

    assert "<script>" not in page
    assert "<p onclick" not in page
    assert "Re: &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Text &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page


def test_email_html_is_shown_in_a_sandboxed_srcdoc_without_scripts() -> None:
    page = render_page([hostile_email()])

    (frame,) = re.findall(r"<iframe[^>]*>", page)
    sandbox = re.search(r'sandbox="([^"]*)"', frame)
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame)
    assert sandbox is not None
    assert srcdoc is not None
    assert "allow-scripts" not in sandbox.group(1)
    assert "allow-same-origin" not in sandbox.group(1)
    assert "allow-popups" in sandbox.group(1).split()  # so a person can follow the links
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in srcdoc.group(1)
    assert "&lt;a href=&quot;https://news.example/x&quot;&gt;link&lt;/a&gt;" in srcdoc.group(1)
    assert srcdoc.group(1).startswith("&lt;base target=&quot;_blank&quot;&gt;")


def test_browser_gets_the_page_with_a_policy_that_forbids_scripts() -> None:
    store: list[Any] = [sent(mime(subject=HOSTILE), "m1")]
    outbox = Outbox(lambda: store)

    response = get(outbox, OUTBOX_PATH, accept="text/html,application/xhtml+xml,*/*;q=0.8")

    assert response.status == 200
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert "script-src 'none'" in (response.header("Content-Security-Policy") or "")
    body = response.body.decode()
    assert "<h1>Outbox</h1>" in body
    assert HOSTILE not in body


@pytest.mark.parametrize("target", [OUTBOX_PATH, f"{OUTBOX_PATH}?format=html"])
def test_empty_outbox_page_says_so(target: str) -> None:
    response = get(Outbox(lambda: []), target, accept="text/html")

    assert "Nothing sent yet." in response.body.decode()
