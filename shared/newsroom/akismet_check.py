"""Akismet's comment-check as a content check, on when an API key is configured.

The comments function runs it after the built-in rules, beside the ``CONTENT_CHECKS`` ones,
whenever ``AKISMET_KEY_PARAMETER_NAME`` names the SSM parameter holding the key (the
template's `AkismetKeyParameterName`); it is not in `newsroom.content_checks.REGISTRY`, since
without a key it cannot run. Akismet's "ham" approves, "spam" marks the comment as spam and
"discard" (``X-akismet-pro-tip: discard``, blatant spam) drops a new comment unstored
(`newsroom.comments.submit`) and makes an edited one spam: nobody is notified of either, and
the reader's answer is a held comment's either way. An error or a timeout holds it
(`newsroom.content_checks`). What is sent is in docs/api.md ("Akismet").

The PyPI `akismet` package and httpx are imported only here, and this module only when the
key is configured. The client is made on the first check of a container and kept: the key is
read from SSM once per container.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from newsroom.content_checks import CheckVerdict
from newsroom.data import dynamo

if TYPE_CHECKING:
    import akismet
    import httpx

    from newsroom.comment_settings import AkismetSettings, NotificationsSettings
    from newsroom.models.comments import StoredComment
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
    def from_settings(cls, settings: AkismetSettings) -> AkismetCheck:
        return cls(
            key_parameter_name=settings.akismet_key_parameter_name,
            site_url=settings.site_url,
            site_language=settings.site_language,
            api_url=settings.akismet_api_url,
            is_test=settings.akismet_is_test,
        )

    def sent(self, submission: Submission) -> dict[str, str]:
        """What comment-check is sent of `submission`, with the ``blog`` it is sent for: kept
        with the comment's sender data, so that a moderator's decision against Akismet's
        verdict is reported with the same fields (`report_correction`)."""
        blog = self.site_url or site_of(submission.permalink)
        fields = comment_fields(submission, language=self.site_language, is_test=self.is_test)
        return {"blog": blog} | {name: str(value) for name, value in fields.items()}

    def check(self, submission: Submission) -> CheckVerdict:
        from akismet import CheckResponse

        fields = self.sent(submission)
        client = sync_client(self.key_parameter_name, fields.pop("blog"), self.api_url)
        answer = client.comment_check(**cast("dict[str, Any]", fields))
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


Correction = Literal["spam", "ham"]


def correction(old: StoredComment | None, new: StoredComment | None) -> Correction | None:
    """What Akismet is to be told of a moderator's decision: ``spam`` when a moderator marks
    as spam a comment Akismet passed, ``ham`` when one approves a comment Akismet called spam;
    None for anything else (no Akismet verdict on the comment before, or none against it)."""
    if old is None or new is None or old.status == new.status:
        return None
    if not new.moderation.rule.startswith("moderator_"):
        return None
    judged = next((c.outcome for c in old.moderation.checks if c.name == "akismet"), None)
    if judged == "ok" and new.status == "spam":
        return "spam"
    if judged in ("spam", "discard") and new.status == "approved":
        return "ham"
    return None


def report_correction(
    old: StoredComment | None,
    new: StoredComment | None,
    settings: AkismetSettings,
    table: dynamo.TableAccess,
) -> Correction | None:
    """Tell Akismet (submit-spam or submit-ham) of a moderator's decision against its verdict,
    with what comment-check was sent (the comment's sender data); what was told, or None when
    nothing was to be told or the sender data is gone (its retention ended, or erased).

    Raises
    ------
    akismet.AkismetError
        Akismet did not take it (the caller logs it: a report is not worth a retry).
    """
    told = correction(old, new)
    if told is None or new is None:
        return None
    from newsroom.data.comments import sender_data_key

    found = table.db.get_item(
        TableName=table.table,
        Key=sender_data_key(new.slug, new.id),
        ProjectionExpression="akismet",
    ).get("Item")
    fields = dict(dynamo.from_item(found).get("akismet") or {}) if found else {}
    if not fields:
        return None
    client = sync_client(
        settings.akismet_key_parameter_name, fields.pop("blog"), settings.akismet_api_url
    )
    (client.submit_spam if told == "spam" else client.submit_ham)(**cast("dict[str, Any]", fields))
    return told


def tell_of_moderation(
    old: StoredComment | None, new: StoredComment | None, settings: NotificationsSettings
) -> Correction | None:
    """`report_correction` from the stream: what Akismet was told, or None. A report Akismet
    does not take (down, slow, the key refused or missing) is logged and counted, not retried:
    retrying the stream record would hold up the emails behind it for a training signal."""
    from akismet import AkismetError

    from newsroom.errors import NewsroomError
    from newsroom.observability import logger, metrics
    from newsroom.secrets import SecretMissingError

    try:
        told = report_correction(
            old, new, settings, dynamo.TableAccess(settings.content_table_name)
        )
    except (AkismetError, NewsroomError, SecretMissingError) as exc:
        logger.warning("Akismet was not told of a moderator's decision", error=type(exc).__name__)
        metrics.add_metric(name="AkismetReportsFailed", unit="Count", value=1)
        return None
    if told is not None:
        metrics.add_metric(name="AkismetReports", unit="Count", value=1)
    return told
