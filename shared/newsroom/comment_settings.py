"""The settings of the functions that take and tell of comments (the comments and notifications
functions), apart from newsroom.config so that the articles function never builds them."""

from __future__ import annotations

from pydantic import Field, field_validator

from newsroom.config import FromEnvironment, _LinkLifetimes, _PublicUrls, _Settings
from newsroom.models.comments import AuthorEmail


class AkismetSettings(FromEnvironment):
    """Akismet, for the comments function (comment-check) and the notifications function
    (submit-spam and submit-ham on a moderator's decision against its verdict)."""

    akismet_key_parameter_name: str = Field(
        default="",
        description="SSM parameter holding an Akismet API key (AkismetKeyParameterName): "
        "when set, every comment the rules approve is checked with Akismet too "
        "(newsroom.akismet_check); empty: Akismet is off.",
    )
    akismet_api_url: str = Field(
        default="",
        pattern=r"^(https?://[^/]+)?$",
        description="Where Akismet's requests go instead of https://rest.akismet.com (tests, "
        "the local run's fake); empty: Akismet itself.",
    )
    akismet_is_test: bool = Field(
        default=False, description="Mark Akismet calls as tests (is_test), kept out of training."
    )
    site_url: str = Field(
        default="",
        pattern=r"^(https?://\S+)?$",
        description="The site's URL (Akismet's blog); empty: the origin of the article's URL.",
    )
    site_language: str = Field(
        default="en", min_length=2, description="The site's language(s), e.g. en or en, fr_ca."
    )


class CommentsSettings(_Settings, _LinkLifetimes, _PublicUrls, AkismetSettings):
    """Environment of the comments function. List settings are JSON arrays in the
    environment, or their items separated by commas.

    The moderation defaults are WordPress's (Settings > Discussion).
    """

    idempotency_table_name: str = Field(min_length=3, max_length=255)
    secret_parameter_name: str = Field(
        min_length=1,
        description="SSM SecureString holding the current key for IP/email hashes, signed "
        "links and listing cursors; NAME-previous holds the key it replaced while rotating "
        "(newsroom.secrets).",
    )
    comment_max_links: int = Field(
        default=2, ge=0, description="Hold a comment with this many links or more (0: off)."
    )
    moderation_keys: list[str] = Field(
        default_factory=list, description="Hold a comment containing any of these."
    )
    disallowed_keys: list[str] = Field(
        default_factory=list, description="Mark a comment containing any of these as spam."
    )
    require_previous_approval: bool = Field(
        default=True, description="Hold comments of authors with no approved comment yet."
    )
    moderate_all: bool = Field(default=False, description="Hold every comment.")
    content_checks: list[str] = Field(
        default_factory=list,
        description="JSON array: the content checks (newsroom.content_checks.REGISTRY) a "
        "comment the rules approve must pass too; none by default.",
    )
    altcha: bool = Field(
        default=False,
        description="Require an ALTCHA proof of work (from GET /challenge) with each comment "
        "(newsroom.proof_of_work).",
    )
    altcha_cost: int = Field(
        default=5000,
        ge=1,
        le=1_000_000,
        description="PBKDF2 iterations of each of the about 256 derivations a solution takes.",
    )
    minimum_form_seconds: int = Field(
        default=0,
        ge=0,
        le=60,
        description="Least time between loading the comment form (GET /form-token) and posting "
        "it: a comment posted sooner is held for moderation, one without a valid token refused "
        "(newsroom.form_time); 0: off.",
    )
    close_comments_after_days: int | None = Field(
        default=None, ge=1, description="Close comments on articles older than this (off)."
    )
    flood_interval_seconds: float = Field(
        default=15,
        gt=0,
        description="Least time between two comments of one IP or email, in seconds (a "
        "fraction is allowed).",
    )
    trusted_edge_secret: str = Field(
        default="",
        description="The value our CloudFront distribution sends in X-Newsroom-Edge (template "
        "parameter Cdn): with it, the reader's IP is the one CloudFront saw; empty: no CDN.",
    )
    thread_depth: int = Field(default=5, ge=1, le=5, description="Deepest reply level.")
    edit_window_seconds: int = Field(
        default=900,
        ge=1,
        le=86_400,
        description="How long after posting its author may edit or delete a comment (while no "
        "reply exists).",
    )
    sender_data_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="How long what a comment's sender left for moderation (the IP hash) is "
        "kept; then the table's TTL deletes it, and the comment stays.",
    )
    privacy_request_interval_seconds: int = Field(
        default=300,
        ge=1,
        description="Least time between two privacy requests from one IP, or for one address.",
    )
    # The privacy requests' email (its link) goes out from here, as the notifications' do.
    sender_email: str = Field(default="", description="The SES identity emails come from.")
    configuration_set_name: str = Field(
        default="", description="SES configuration set emails are sent with (its events)."
    )
    max_body_bytes: int = Field(default=65_536, ge=1024, description="Largest request body.")
    list_max_age_seconds: int = Field(default=30, ge=0)
    idempotency_expiry_seconds: int = Field(default=3600, ge=60)

    @field_validator("content_checks")
    @classmethod
    def _known_checks(cls, names: list[str]) -> list[str]:
        if names:
            from newsroom.content_checks import checks_named

            checks_named(names)  # a ValueError naming the unknown ones
        return names


class NotificationsSettings(_Settings, _LinkLifetimes, AkismetSettings):
    """Environment of the notifications function (the stream consumer; the link pages are the
    comments function's)."""

    secret_parameter_name: str = Field(min_length=1)
    sender_email: str = Field(min_length=3, description="The SES identity emails come from.")
    configuration_set_name: str = Field(
        default="", description="SES configuration set emails are sent with (its events)."
    )
    moderator_emails: list[AuthorEmail] = Field(
        default_factory=list,
        description="Who gets moderation requests: a JSON array, or addresses separated by "
        "commas; each must be an address SES can send to.",
    )
    public_base_url: str = Field(
        min_length=1, description="Base URL of the API for links in emails, no trailing slash."
    )
    article_url_template: str = Field(
        default="{base}/articles/{slug}",
        description="Where readers read an article; {base} and {slug} are filled in.",
    )
