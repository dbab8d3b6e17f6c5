"""The comment widget's files (`functions/articles/embed/`), served by the articles function at
``/embed/{file}`` so a site adds comments with one tag and no build step (docs/embed.md).

The script asks for its stylesheet at ``comments.css?v=<version>``: the version is a hash of
both files, written into the script where it says `VERSION_PLACEHOLDER` as it is served. A request
naming the current version may be kept for a year (the URL changes with the files); the plain
URLs, which site owners copy, for `PLAIN_MAX_AGE_SECONDS`, then revalidate by ETag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from newsroom.errors import NoSuchFileError

CONTENT_TYPES = {
    "comments.js": "text/javascript; charset=utf-8",
    "comments.css": "text/css; charset=utf-8",
    # What a post may have to carry (a form token, a proof of work), loaded on the form's first
    # focus; and ALTCHA's solver, which that loads only when the API asks for a proof of work.
    "form.js": "text/javascript; charset=utf-8",
    "altcha.js": "text/javascript; charset=utf-8",
}
FILE_NAMES = tuple(CONTENT_TYPES)
VERSION_PLACEHOLDER = "__NEWSROOM_VERSION__"
PLAIN_MAX_AGE_SECONDS = 300
VERSIONED_CACHE_CONTROL = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class EmbedFiles:
    """The widget's files as served, and their version."""

    texts: dict[str, str]
    version: str


@cache
def load(directory: Path) -> EmbedFiles:
    """The files in `directory`, read once per container."""
    raw = {name: (directory / name).read_text(encoding="utf-8") for name in FILE_NAMES}
    digest = hashlib.sha256()
    for name in FILE_NAMES:
        digest.update(raw[name].encode())
    version = digest.hexdigest()[:16]
    texts = {name: text.replace(VERSION_PLACEHOLDER, version) for name, text in raw.items()}
    return EmbedFiles(texts=texts, version=version)


def file(name: str, *, version: str | None, directory: Path) -> Response[str]:
    """One of the widget's files; cacheable for a year when `version` is the current one.

    Raises
    ------
    NoSuchFileError
        When there is no such file.
    """
    if name not in CONTENT_TYPES:
        raise NoSuchFileError("widget", name, FILE_NAMES)
    files = load(directory)
    headers = {
        "X-Content-Type-Options": "nosniff",
        # Pages that isolate themselves (Cross-Origin-Embedder-Policy) may still load it.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if version == files.version:
        headers["Cache-Control"] = VERSIONED_CACHE_CONTROL
    return Response(
        status_code=HTTPStatus.OK,
        content_type=CONTENT_TYPES[name],
        body=files.texts[name],
        headers=headers,
    )
