"""The demo news site of `newsroom run`: the plain files of docs/demo-site/, served on a port of
their own (another origin than the API's, so every page exercises CORS as a real site would).

The files name the API as ``https://API-BASE`` (what a site owner replaces by hand); the server
puts the running API's base there as it serves them, and sends every page with a
Content-Security-Policy that lets scripts, styles and requests reach only the site itself and
the API (``strict.html``: scripts and styles from the API's origin alone, as the strictest site
embedding the widget would have it). Standard library only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from newsroom_tools.server import LoopbackServer

API_BASE_PLACEHOLDER = "https://API-BASE"
STRICT_PAGE = "strict.html"
# strict.html's thread is this article's unless the query names another (?slug=...).
_STRICT_SLUG = re.compile(r'data-newsroom-comments="[^"]*"')
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # the API's slug pattern (models.common)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
_TEXT_SUFFIXES = {".html", ".css", ".js", ".svg", ".txt"}

log = logging.getLogger(__name__)


def default_root() -> Path:
    from newsroom_tools.template import PROJECT_ROOT

    return PROJECT_ROOT / "docs" / "demo-site"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (the API base's origin, for the CSP)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(page: str, api_url: str) -> str:
    """The policy a demo page is served with: only the site and the API's origin may run
    scripts, style the page and be fetched; `strict.html` allows scripts and styles from the
    API's origin alone."""
    api = origin_of(api_url)
    own = "" if page == STRICT_PAGE else "'self' "
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {own}{api}",
            f"style-src {own}{api}",
            f"connect-src {api}",
            f"img-src 'self' {api} data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


@dataclass(frozen=True)
class DemoResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def respond(root: Path, target: str, api_url: str, *, method: str = "GET") -> DemoResponse:
    """The answer to a request for `target` (path and query) under `root`.

    Only files directly inside `root` are served (``/`` is ``index.html``); anything else, a
    path that climbs out of it included, is a 404.
    """
    if method not in ("GET", "HEAD"):
        return _plain(HTTPStatus.METHOD_NOT_ALLOWED, "GET or HEAD only\n", ("Allow", "GET, HEAD"))
    parts = urlsplit(target)
    name = unquote(parts.path).lstrip("/") or "index.html"
    file = _file_in(root, name)
    if file is None:
        return _plain(HTTPStatus.NOT_FOUND, f"no such page: /{name}\n")
    body = file.read_bytes()
    if file.suffix in _TEXT_SUFFIXES:
        text = body.decode("utf-8").replace(API_BASE_PLACEHOLDER, api_url.rstrip("/"))
        if file.name == STRICT_PAGE:
            text = _with_slug(text, parse_qs(parts.query).get("slug", [""])[0])
        body = text.encode("utf-8")
    headers = (
        ("Content-Type", CONTENT_TYPES.get(file.suffix, "application/octet-stream")),
        ("Content-Security-Policy", content_security_policy(file.name, api_url)),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-cache"),
        ("Content-Length", str(len(body))),
    )
    return DemoResponse(HTTPStatus.OK, headers, b"" if method == "HEAD" else body)


def _file_in(root: Path, name: str) -> Path | None:
    """The file `name` directly inside `root`, or None (subfolders, dot files and anything
    resolving outside `root` are not served)."""
    if "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        return None
    file = (root / name).resolve()
    if file.parent != root.resolve() or not file.is_file():
        return None
    return file


def _with_slug(page: str, slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        return page
    return _STRICT_SLUG.sub(f'data-newsroom-comments="{slug}"', page, count=1)


def _plain(status: HTTPStatus, text: str, *extra: tuple[str, str]) -> DemoResponse:
    body = text.encode("utf-8")
    headers = (
        ("Content-Type", "text/plain; charset=utf-8"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Length", str(len(body))),
        *extra,
    )
    return DemoResponse(status, headers, body)


class DemoSiteServer(LoopbackServer):
    """The demo site on `address` (port 0 picks a free one), its pages pointing at `api_url`.

    `url` is the front page; `origins` are what the API must allow for its pages (the same
    port under 127.0.0.1 and localhost, since a reader may open either).
    """

    thread_name = "newsroom-demo-site"

    def __init__(self, address: tuple[str, int], *, api_url: str, root: Path | None = None) -> None:
        self.api_url = api_url
        self.root = root or default_root()
        super().__init__(address, _DemoHandler)

    @property
    def url(self) -> str:
        return f"http://{self.server_name}:{self.server_port}/"

    @property
    def origins(self) -> list[str]:
        hosts = dict.fromkeys([self.server_name, "127.0.0.1", "localhost"])
        return [f"http://{host}:{self.server_port}" for host in hosts if host != "0.0.0.0"]  # noqa: S104


class _DemoHandler(BaseHTTPRequestHandler):
    server: DemoSiteServer
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        reply = respond(self.server.root, self.path, self.server.api_url, method=self.command)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # its body, if any, is left unread
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        log.debug("demo site: " + format, *args)
