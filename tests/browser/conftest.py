"""Browser test wiring: headless Chromium through Playwright, a local system per module with the
demo news site on another origin than the API, and a page per test that fails the test on any
Content-Security-Policy violation, uncaught script error or dialog.

Chromium is the machine's (`$NEWSROOM_CHROMIUM`, `chromium`, `chromium-browser`), else
Playwright's own build if one was installed; with none the tests fail and say how to get one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from newsroom_tools.runner import LocalSystem, free_port
from newsroom_tools.template import PROJECT_ROOT
from tests.browser.chromium import CHROMIUM_ARGS
from tests.http_client import Reply, request, signed_request

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright

BROWSER_TESTS = Path(__file__).parent
# A moderation answered 503 is asked again, at most this many times in all.
MODERATION_ATTEMPTS = 3
SCREENSHOTS = PROJECT_ROOT / ".artifacts" / "screenshots"
NO_BROWSER = (
    "The browser tests need Chromium and found none: not $NEWSROOM_CHROMIUM, no chromium or "
    "chromium-browser on PATH, and no browser of Playwright's own. Install one: "
    "'sudo apt-get install chromium' (Debian, Ubuntu; .ci/run does it as root), or "
    "'.venv/bin/playwright install chromium' where Playwright can download its build, or set "
    "NEWSROOM_CHROMIUM=/path/to/chrome."
)
# Records every CSP violation of every frame, before any of the page's scripts run; the exposed
# binding carries it to the test even when the page navigates away afterwards.
WATCH_SCRIPT = """
(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    const violation = {
      directive: event.violatedDirective,
      blocked: event.blockedURI,
      source: event.sourceFile,
      line: event.lineNumber,
      sample: event.sample,
      page: document.location.href,
    };
    window.__cspViolations.push(violation);
    if (typeof window.__newsroomCspViolation === "function") {
      window.__newsroomCspViolation(violation);
    }
  });
})();
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in tests/browser is a browser test (`-m browser` picks them, `-m "not
    browser"` leaves them out)."""
    for item in items:
        if BROWSER_TESTS in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


# The browser


def chromium_executable(playwright: Playwright) -> str | None:
    """The Chromium to drive: $NEWSROOM_CHROMIUM, the machine's, or Playwright's own build."""
    chosen = os.environ.get("NEWSROOM_CHROMIUM")
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            pytest.fail(f"NEWSROOM_CHROMIUM={chosen} is not an executable", pytrace=False)
        return found
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    own = Path(playwright.chromium.executable_path)
    return str(own) if own.is_file() else None


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium for the whole session (a new context per test keeps tests apart)."""
    executable = chromium_executable(playwright)
    if executable is None:
        pytest.fail(NO_BROWSER, pytrace=False)
    launched = playwright.chromium.launch(
        executable_path=executable, args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield launched
    finally:
        launched.close()


# The system under test


class Settings(Protocol):
    def __call__(self, **values: str) -> None: ...


@dataclass
class Site:
    """A running local system with the demo site on its own port (another origin)."""

    system: LocalSystem
    _articles: Path

    @property
    def api(self) -> str:
        """The API base, with the stage (``http://127.0.0.1:PORT/v1``)."""
        return self.system.api_url

    @property
    def api_origin(self) -> str:
        return self.system.root_url

    @property
    def demo_url(self) -> str:
        """The demo site's front page (``http://127.0.0.1:PORT/``)."""
        return self.system.demo_url

    @property
    def demo_origin(self) -> str:
        return self.demo_url.rstrip("/")

    @property
    def slugs(self) -> list[str]:
        """The demo articles (content/articles), as loaded at start."""
        return list(self.system.seeded)

    def article_url(self, slug: str) -> str:
        """The demo article page of `slug` (its thread and form under it)."""
        return f"{self.demo_url}article.html?slug={slug}"

    def strict_url(self, slug: str) -> str:
        """The page with only the widget snippet for `slug`, under the strict CSP."""
        return f"{self.demo_url}strict.html?slug={slug}"

    def new_article(
        self, *, title: str = "A story of one's own", comments_open: bool = True
    ) -> str:
        """A published article of this test's own, with no comments; its slug."""
        import boto3

        from newsroom_tools import emulator as local_emulator
        from newsroom_tools.importer import import_paths

        slug = f"b-{uuid.uuid4().hex[:10]}"
        path = self._articles / f"{slug}.md"
        path.write_text(
            f"---\nslug: {slug}\ntitle: {json.dumps(title)}\n"
            "summary: Written for a browser test.\n"
            "author:\n  name: Test Writer\n  email: writer@example.com\n"
            "published_at: 2026-01-05T09:00:00Z\n"
            f"comments_open: {'true' if comments_open else 'false'}\n---\n"
            "The first paragraph of the story.\n\nAnd a second one.\n",
            encoding="utf-8",
        )
        db = boto3.client(
            "dynamodb", endpoint_url=self.system.emulator_url, region_name=local_emulator.REGION
        )
        import_paths([path], table=self.system.table_names["ContentTable"], db=db)
        return slug

    def post_comment(
        self,
        slug: str,
        body: str,
        *,
        author_name: str = "A Reader",
        author_email: str | None = None,
        author_url: str = "",
        parent_id: str | None = None,
        timeout: float = 10,
        idempotency_key: str | None = None,
    ) -> Reply:
        """POST a comment as a reader would, from a loopback address of its own (so flood
        control by IP does not meet the browser's, which posts from 127.0.0.1)."""
        fields: dict[str, Any] = {
            "author_name": author_name,
            "author_email": author_email or f"reader-{uuid.uuid4().hex[:8]}@example.org",
            "author_url": author_url,
            "body": body,
            "notify_replies": False,
            "phone": "",
        }
        if parent_id is not None:
            fields["parent_id"] = parent_id
        return request(
            f"{self.api}/articles/{slug}/comments",
            method="POST",
            json_body=fields,
            headers={"Idempotency-Key": idempotency_key or uuid.uuid4().hex},
            source_ip=_other_loopback_address(),
            timeout=timeout,
        )

    def moderate(
        self, slug: str, comment_id: str, action: str = "approve", *, timeout: float = 10
    ) -> dict[str, Any]:
        """Approve (or `spam`, `trash`) a comment through the signed admin API; asked again
        after a 503 once its Retry-After has passed, as the API asks its clients to (a busy
        emulator's DynamoDB can outlast the function's attempts)."""
        path = f"/admin/comments/{slug}/{comment_id}/{action}"
        for _ in range(MODERATION_ATTEMPTS - 1):
            reply = self.admin("POST", path, timeout=timeout)
            if reply.status != 503:
                break
            time.sleep(min(float(reply.headers.get("retry-after", "1")), 5.0))
        else:
            reply = self.admin("POST", path, timeout=timeout)
        assert reply.status == 200, reply.body
        answer: dict[str, Any] = reply.json()
        return answer

    def approved_comment(self, slug: str, body: str, **fields: Any) -> str:
        """Post a comment and approve it; its id."""
        posted = self.post_comment(slug, body, **fields)
        assert posted.status == 201, posted.body
        comment_id = str(posted.json()["id"])
        if posted.json()["status"] != "approved":
            self.moderate(slug, comment_id, "approve")
        self.system.wait_for_streams()
        return comment_id

    def admin(self, method: str, path: str, *, timeout: float = 10) -> Reply:
        """A request to the admin API, signed with SigV4 as API Gateway's AWS_IAM wants it
        (locally any access key with the secret ``testing``)."""
        return signed_request(f"{self.api}{path}", method=method, timeout=timeout)


def _other_loopback_address() -> str:
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The whole system on free ports, with the demo site on one of its own; one per module."""
    # Tables of its own: earlier modules' comments would slow every transaction moto makes
    # (it copies the tables a transaction touches) and change what the pages show.
    with LocalSystem(
        port=0, emulator_port=free_port(), demo_port=0, table_prefix=f"b{uuid.uuid4().hex[:8]}-"
    ) as running:
        yield Site(running, tmp_path_factory.mktemp("articles"))


# The page


@dataclass
class PageProblems:
    """What went wrong in a test's pages: each entry fails the test at teardown."""

    csp_violations: list[dict[str, Any]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)  # reported, not failed on

    def failures(self) -> list[str]:
        return (
            [f"CSP violation: {json.dumps(v, sort_keys=True)}" for v in self.csp_violations]
            + [f"uncaught error in the page: {error}" for error in self.page_errors]
            + [f"dialog opened: {message}" for message in self.dialogs]
        )


@pytest.fixture
def page_problems() -> PageProblems:
    """The CSP violations, uncaught errors and dialogs of this test's pages, for a test that
    checks them itself (the `page` fixture fails the test on any of them at teardown)."""
    return PageProblems()


@pytest.fixture
def context(browser: Browser, page_problems: PageProblems) -> Iterator[BrowserContext]:
    """A fresh browser context (no cookies, no storage) watching for CSP violations."""
    fresh = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    fresh.set_default_timeout(10_000)
    fresh.expose_binding(
        "__newsroomCspViolation",
        lambda _source, violation: page_problems.csp_violations.append(violation),
    )
    fresh.add_init_script(WATCH_SCRIPT)
    try:
        yield fresh
    finally:
        fresh.close()


@pytest.fixture
def page(context: BrowserContext, page_problems: PageProblems) -> Iterator[Page]:
    """A page in a fresh context; the test fails at teardown if any page of the context saw a
    CSP violation, an uncaught error, or opened a dialog (alert, confirm, prompt)."""
    opened = context.new_page()
    watch(opened, page_problems)
    context.on("page", lambda other: watch(other, page_problems))
    yield opened
    failures = page_problems.failures()
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def watch(page: Page, problems: PageProblems) -> None:
    """Record `page`'s uncaught errors, dialogs and CSP messages into `problems`."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        problems.console_errors.append(message.text)
        if "Content Security Policy" in message.text:
            # Chromium's own report of a violation: it also catches one the page's listener
            # could not see (in a document torn down at once, say).
            problems.csp_violations.append({"console": message.text})

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        problems.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)


# Artifacts


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot of `page` kept as a test artifact, .artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def csp_violations_in(page: Page) -> list[dict[str, Any]]:
    """The violations the current document recorded itself (window.__cspViolations)."""
    found: list[dict[str, Any]] = page.evaluate("window.__cspViolations || []")
    return found
