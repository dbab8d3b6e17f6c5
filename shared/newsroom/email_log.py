"""The email log: which emails the notifications sent, refused or held back, and what SES said
of each, by status (docs/notifications.md, "The email log")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsroom.data.emails import EmailLogTable
    from newsroom.models.common import Page
    from newsroom.models.emails import EmailStatus, LoggedEmail


@dataclass(frozen=True)
class EmailLog:
    """Where the log is read from."""

    store: EmailLogTable

    @classmethod
    def from_settings(cls) -> EmailLog:
        from newsroom.config import comments_settings
        from newsroom.data.emails import EmailLogTable
        from newsroom.data.pagination import CursorSigner
        from newsroom.secrets import project_keys

        settings = comments_settings()
        cursors = CursorSigner(lambda: project_keys(settings.secret_parameter_name))
        return cls(store=EmailLogTable(settings.content_table_name, cursors=cursors))


def list_emails(
    status: EmailStatus, *, limit: int, cursor: str | None = None, log: EmailLog | None = None
) -> Page[LoggedEmail]:
    """The emails with `status`, newest first: one page of at most `limit`.

    Raises
    ------
    InvalidCursorError
        When the cursor is not one this listing issued.
    """
    return (log or EmailLog.from_settings()).store.list_by_status(
        status, limit=limit, cursor=cursor
    )
