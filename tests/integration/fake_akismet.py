"""A fake Akismet on loopback, answering as rest.akismet.com does, and keeping every form.

comment-check answers by the comment: the author ``akismet-guaranteed-spam`` (Akismet's own
trigger) is spam; a text containing ``[fake:discard]`` is spam with ``X-akismet-pro-tip:
discard``; ``[fake:error]`` gets the body Akismet sends for a bad request (``invalid``, with
``X-akismet-debug-help``); ``[fake:slow]`` is answered after `SLOW_SECONDS`, past the client's
timeout; anything else is ham. submit-spam and submit-ham thank, as Akismet does, except for a
text containing ``[fake:submit-error]``, whose reports get ``invalid``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

SPAM_AUTHOR = "akismet-guaranteed-spam"
DISCARD = "[fake:discard]"
ERROR = "[fake:error]"
SLOW = "[fake:slow]"
SUBMIT_ERROR = "[fake:submit-error]"
SLOW_SECONDS = 1.6
THANKS = "Thanks for making the web a better place."


@dataclass
class FakeAkismet:
    """The server's address and what it received: (path, form) per request."""

    url: str
    received: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def forms(self, path: str, marker: str) -> list[dict[str, str]]:
        """The forms posted to `path` whose comment_content contains `marker`."""
        return [
            form
            for got, form in list(self.received)
            if got == path and marker in form.get("comment_content", "")
        ]


def _handler(fake: FakeAkismet) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            fake.received.append((self.path, form))
            headers: dict[str, str] = {}
            content = form.get("comment_content", "")
            if self.path.endswith(("/submit-spam", "/submit-ham")):
                body = "invalid" if SUBMIT_ERROR in content else THANKS
            elif ERROR in content:
                body = "invalid"
                headers["X-akismet-debug-help"] = "Empty 'user_ip' value"
            elif SLOW in content:
                time.sleep(SLOW_SECONDS)
                body = "false"
            elif DISCARD in content:
                body = "true"
                headers["X-akismet-pro-tip"] = "discard"
            else:
                body = "true" if form.get("comment_author") == SPAM_AUTHOR else "false"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_fake_akismet() -> Iterator[FakeAkismet]:
    """The fake, serving on a free loopback port until the block ends."""
    fake = FakeAkismet(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-akismet", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
