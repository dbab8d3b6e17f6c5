"""Akismet's comment-check as a content check, on when an API key is configured.

The comments function runs it after the built-in rules, beside the ``CONTENT_CHECKS`` ones,
whenever ``AKISMET_KEY_PARAMETER_NAME`` names the SSM parameter holding the key (the
template's `AkismetKeyParameterName`); it is not in `newsroom.content_checks.REGISTRY`, since
without a key it cannot run. Akismet's "ham" approves, "spam" marks the comment as spam and
"discard" (``X-akismet-pro-tip: discard``, blatant spam) keeps it as spam too: nobody is
notified of spam, and the reader's answer is a held comment's either way. An error or a
timeout holds it (`newsroom.content_checks`). What is sent is in docs/moderation.md.

The PyPI `akismet` package and httpx are imported only here, and this module only when the
key is configured. The client is made on the first check of a container and kept: the key is
read from SSM once per container.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from newsroom.content_checks import CheckVerdict

if TYPE_CHECKING:
    import akismet
    import httpx

    from newsroom.config import CommentsSettings
    from newsroom.moderation import Submission

# Akismet's requests give up after this long (the package's own default, set here rather than
# through PYTHON_AKISMET_TIMEOUT, which it reads at import); the check allows a little more.
CLIENT_TIMEOUT_SECONDS = 1.0
_API_HOST = "rest.akismet.com"
# The comment form's honeypot (CommentIn.phone). A filled one is spam by the rules before
# Akismet is asked, so only its name goes along (the package sends no other field).
HONEYPOT_FIELD = "phone"


def _gmt(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else ""


def comment_fields(
    submission: Submission, *, language: str, is_test: bool = False
) -> dict[str, Any]:
    """What comment-check (and submit-spam / submit-ham) is told about a comment: every field
    Akismet asks for that is known, the empty ones left out."""
    fields: dict[str, Any] = {
        "user_ip": submission.ip,
        "user_agent": submission.user_agent,
        "referrer": submission.referrer,
        "permalink": submission.permalink,
        "comment_type": submission.comment_type,
        "comment_author": submission.author_name,
        "comment_author_email": submission.author_email,
        "comment_author_url": submission.author_url or "",
        "comment_content": submission.body,
        "comment_date_gmt": _gmt(submission.posted_at),
        "comment_post_modified_gmt": _gmt(submission.article_modified_at),
        "blog_lang": language,
        "blog_charset": "UTF-8",
        "honeypot_field_name": HONEYPOT_FIELD,
        "recheck_reason": submission.recheck_reason,
    }
    kept = {name: value for name, value in fields.items() if value}
    if is_test:
        kept["is_test"] = "1"
    return kept


def site_of(permalink: str) -> str:
    """The origin of a URL (Akismet's ``blog`` when no SITE_URL is set)."""
    parts = urlsplit(permalink)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class AkismetCheck:
    """comment-check for every comment the rules approve."""

    key_parameter_name: str
    site_url: str = ""
    site_language: str = "en"
    api_url: str = ""
    is_test: bool = False
    name: str = "akismet"
    timeout_seconds: float = CLIENT_TIMEOUT_SECONDS + 0.5

    @classmethod
    def from_settings(cls, settings: CommentsSettings) -> AkismetCheck:
        return cls(
            key_parameter_name=settings.akismet_key_parameter_name,
            site_url=settings.site_url,
            site_language=settings.site_language,
            api_url=settings.akismet_api_url,
            is_test=settings.akismet_is_test,
        )

    def check(self, submission: Submission) -> CheckVerdict:
        from akismet import CheckResponse

        client = sync_client(
            self.key_parameter_name, self.site_url or site_of(submission.permalink), self.api_url
        )
        fields = comment_fields(submission, language=self.site_language, is_test=self.is_test)
        answer = client.comment_check(**fields)
        if answer == CheckResponse.DISCARD:
            return CheckVerdict.discard("Akismet says it is blatant spam (discard).")
        if answer == CheckResponse.SPAM:
            return CheckVerdict.spam("Akismet says it is spam.")
        return CheckVerdict.ok()


@lru_cache(maxsize=8)
def sync_client(key_parameter_name: str, blog: str, api_url: str = "") -> akismet.SyncClient:
    """The container's Akismet client for this key and site, made on first use (a failure,
    such as SSM out of reach, is not kept: the next comment tries again). `api_url` sends its
    requests elsewhere than rest.akismet.com (a fake)."""
    import akismet
    import httpx

    from newsroom.secrets import read_parameter

    key = read_parameter(key_parameter_name)
    transport = _ElsewhereTransport(api_url) if api_url else httpx.HTTPTransport()
    http_client = httpx.Client(
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=CLIENT_TIMEOUT_SECONDS,
        transport=transport,
    )
    return akismet.SyncClient(config=akismet.Config(key=key, url=blog), http_client=http_client)


def _ElsewhereTransport(api_url: str) -> httpx.BaseTransport:  # noqa: N802 (a class factory)
    """A transport sending what is meant for rest.akismet.com to `api_url` (the package has
    its base URL written in)."""
    import httpx

    target = httpx.URL(api_url)

    class ElsewhereTransport(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == _API_HOST:
                request.url = request.url.copy_with(
                    scheme=target.scheme, host=target.host, port=target.port
                )
            return super().handle_request(request)

    return ElsewhereTransport()
