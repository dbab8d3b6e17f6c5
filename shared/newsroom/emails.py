"""The emails that follow comments: composed as text and HTML, escaped, built as MIME."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]+")


def header_safe(text: str, limit: int = 200) -> str:
    """One line, no CR/LF (no header injection), trimmed to `limit` characters."""
    flat = _LINE_BREAKS.sub(" ", text)
    flat = "".join(ch for ch in flat if ch >= " " or ch == "\t").strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_mime(self, sender: str, *, now: datetime | None = None) -> bytes:
        """The whole message, as SES's Raw content wants it."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = header_safe(self.subject)
        message["Date"] = format_datetime(now or datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=Address(addr_spec=sender).domain)
        for name, value in self.headers.items():
            message[name] = header_safe(value, limit=2000)
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message.as_bytes()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, paragraphs: list[str], footer: str = "") -> str:
    body = "\n".join(paragraphs)
    foot = f'<hr><p style="color:#666;font-size:small">{footer}</p>' if footer else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title></head>"
        f'<body style="font-family:sans-serif;max-width:40em">{body}{foot}</body></html>'
    )


@dataclass(frozen=True)
class CommentView:
    """What an email says about a comment (all of it from a reader: escaped in HTML)."""

    article_title: str
    article_url: str
    author_name: str
    author_url: str | None
    text: str
    reason: str | None = None


def moderation_request(
    to: str,
    comment: CommentView,
    *,
    approve: str,
    spam: str,
    trash: str,
    expires_days: int,
    edited: bool = False,
) -> Email:
    """Ask a moderator to decide on a held comment; `edited`: its author changed its text
    after posting it (and it is held, again or still), which the email says first."""
    title = header_safe(comment.article_title, 120)
    subject = (
        f'Please moderate an edited comment: "{title}"' if edited else f'Please moderate: "{title}"'
    )
    what = "A comment its author edited after posting it" if edited else "A new comment"
    website = comment.author_url or "(none)"
    text = (
        f'{what} on "{comment.article_title}" is waiting for your approval.\n'
        f"{comment.article_url}\n\n"
        f"Author: {comment.author_name}\nWebsite: {website}\n"
        f"Why held: {comment.reason or '-'}\n\nComment:\n{comment.text}\n\n"
        f"Approve it: {approve}\nMark it as spam: {spam}\nTrash it: {trash}\n\n"
        f"Each link opens a page with a button and works once, for {expires_days} days.\n"
    )
    html_body = _page(
        subject,
        [
            f'<p>{what} on <a href="{_e(comment.article_url)}">'
            f"{_e(comment.article_title)}</a> is waiting for your approval.</p>",
            f"<p><b>Author:</b> {_e(comment.author_name)}<br>"
            f"<b>Website:</b> {_e(website)}<br><b>Why held:</b> {_e(comment.reason or '-')}</p>",
            f'<blockquote style="white-space:pre-wrap">{_e(comment.text)}</blockquote>',
            f'<p><a href="{_e(approve)}">Approve</a> · <a href="{_e(spam)}">Spam</a> · '
            f'<a href="{_e(trash)}">Trash</a></p>',
        ],
        f"Each link opens a page with a button and works once, for {expires_days} days.",
    )
    return Email(to=to, subject=subject, text=text, html=html_body)


def new_comment(to: str, comment: CommentView) -> Email:
    subject = f'New comment on "{header_safe(comment.article_title, 120)}"'
    text = (
        f'{comment.author_name} commented on "{comment.article_title}":\n\n{comment.text}\n\n'
        f"Read it: {comment.article_url}\n"
    )
    html_body = _page(
        subject,
        [
            f"<p><b>{_e(comment.author_name)}</b> commented on "
            f'<a href="{_e(comment.article_url)}">{_e(comment.article_title)}</a>:</p>',
            f'<blockquote style="white-space:pre-wrap">{_e(comment.text)}</blockquote>',
        ],
    )
    return Email(to=to, subject=subject, text=text, html=html_body)


def reply_notice(to: str, comment: CommentView, *, unsubscribe: str) -> Email:
    subject = f'New reply to your comment on "{header_safe(comment.article_title, 120)}"'
    text = (
        f'{comment.author_name} replied to your comment on "{comment.article_title}":\n\n'
        f"{comment.text}\n\nRead it: {comment.article_url}\n\n"
        f"Stop emails about replies to this comment: {unsubscribe}\n"
    )
    html_body = _page(
        subject,
        [
            f"<p><b>{_e(comment.author_name)}</b> replied to your comment on "
            f'<a href="{_e(comment.article_url)}">{_e(comment.article_title)}</a>:</p>',
            f'<blockquote style="white-space:pre-wrap">{_e(comment.text)}</blockquote>',
        ],
        f'<a href="{_e(unsubscribe)}">Stop emails about replies to this comment</a>',
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return Email(to=to, subject=subject, text=text, html=html_body, headers=headers)


def comment_live(to: str, comment: CommentView) -> Email:
    subject = f'Your comment on "{header_safe(comment.article_title, 120)}" is live'
    text = (
        f'Your comment on "{comment.article_title}" was approved and is now public:\n\n'
        f"{comment.text}\n\n{comment.article_url}\n"
    )
    html_body = _page(
        subject,
        [
            f'<p>Your comment on <a href="{_e(comment.article_url)}">'
            f"{_e(comment.article_title)}</a> was approved and is now public:</p>",
            f'<blockquote style="white-space:pre-wrap">{_e(comment.text)}</blockquote>',
        ],
    )
    return Email(to=to, subject=subject, text=text, html=html_body)


def confirm_replies(
    to: str, *, article_title: str, article_url: str, confirm: str, days: int
) -> Email:
    """The request to confirm an address before any reply notice goes to it.

    Anyone can type any address into the form, so it says nothing the commenter chose (no
    name, text or website): only the article's title and address, and the link.
    """
    title = header_safe(article_title, 120)
    subject = f'Confirm emails about replies to your comment on "{title}"'
    ignore = (
        "If this was not you, ignore this email: this address gets no emails about replies, "
        f"and no other request like this one for {days} days."
    )
    text = (
        f'Someone, probably you, left a comment on "{article_title}" ({article_url}) with this '
        "email address and asked to be emailed when someone replies.\n\n"
        "We send no such email until you confirm this address:\n"
        f"Confirm: {confirm}\n\n"
        f"The link opens a page with a button and works once, for {days} days. {ignore}\n"
    )
    html_body = _page(
        subject,
        [
            f'<p>Someone, probably you, left a comment on <a href="{_e(article_url)}">'
            f"{_e(article_title)}</a> with this email address and asked to be emailed when "
            "someone replies.</p>",
            "<p>We send no such email until you confirm this address:</p>",
            f'<p><a href="{_e(confirm)}">Confirm emails about replies</a></p>',
        ],
        f"The link opens a page with a button and works once, for {days} days. {_e(ignore)}",
    )
    return Email(to=to, subject=subject, text=text, html=html_body)


_PRIVACY_ASKS = {
    "export": (
        "Your request for a copy of your comments",
        "asked for a copy of everything stored about the comments written with this email "
        "address: the comments, and the emails sent to it.",
        "Download it",
        "Download a copy",
    ),
    "erase": (
        "Your request to erase your comments",
        "asked to erase the comments written with this email address: the name, address and "
        "website are removed from each; a comment that has replies keeps its place with its "
        "text removed, the others are deleted. This cannot be undone.",
        "Erase them",
        "Erase my comments",
    ),
}


def privacy_link(to: str, *, kind: str, link: str, hours: int) -> Email:
    """The link that acts on a privacy request (an export of what is stored about the address,
    or its erasure).

    Anyone can type any address into the form, so it carries nothing but the site's own text
    and the link: only whoever can read this address's mail can act on it.
    """
    subject, asked, label, button = _PRIVACY_ASKS[kind]
    ignore = "If this was not you, ignore this email: nothing happens without the link."
    text = (
        f"Someone, probably you, {asked}\n\n"
        f"{label}: {link}\n\n"
        f"The link opens a page with a button and works once, for {hours} hours. {ignore}\n"
    )
    html_body = _page(
        subject,
        [f"<p>Someone, probably you, {_e(asked)}</p>", f'<p><a href="{_e(link)}">{button}</a></p>'],
        f"The link opens a page with a button and works once, for {hours} hours. {_e(ignore)}",
    )
    return Email(to=to, subject=subject, text=text, html=html_body)
