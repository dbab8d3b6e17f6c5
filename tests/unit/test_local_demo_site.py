"""The demo news site's files and the server of `newsroom run` that serves them."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsroom_tools.demo_site import (
    API_BASE_PLACEHOLDER,
    content_security_policy,
    default_root,
    respond,
)
from newsroom_tools.importer import collect_files, load_article_file
from newsroom_tools.template import PROJECT_ROOT

API = "http://127.0.0.1:3999/v1"
API_ORIGIN = "http://127.0.0.1:3999"
ROOT = default_root()
PAGES = sorted(ROOT.glob("*.html"))


def header(reply: object, name: str) -> str:
    headers = dict(getattr(reply, "headers", ()))
    return str(headers[name])


# What it serves


def test_front_page_is_index_html_with_the_api_base_in_place_of_the_placeholder() -> None:
    reply = respond(ROOT, "/", API)

    assert reply.status == 200
    assert header(reply, "Content-Type") == "text/html; charset=utf-8"
    page = reply.body.decode()
    assert f'<script async src="{API}/embed/comments.js"></script>' in page
    assert API_BASE_PLACEHOLDER not in page


@pytest.mark.parametrize("page", ["/", "/index.html", "/article.html?slug=a", "/site.css"])
def test_every_file_is_served_with_the_sites_csp(page: str) -> None:
    reply = respond(ROOT, page, API)

    assert reply.status == 200
    assert header(reply, "Content-Security-Policy") == (
        "default-src 'none'; "
        f"script-src 'self' {API_ORIGIN}; style-src 'self' {API_ORIGIN}; "
        f"connect-src {API_ORIGIN}; img-src 'self' {API_ORIGIN} data:; "
        "base-uri 'none'; form-action 'none'"
    )
    assert header(reply, "X-Content-Type-Options") == "nosniff"


def test_strict_page_allows_scripts_and_styles_from_the_api_origin_alone() -> None:
    policy = header(respond(ROOT, "/strict.html", API), "Content-Security-Policy")

    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == API_ORIGIN
    assert directives["style-src"] == API_ORIGIN
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


def test_strict_page_shows_the_thread_of_the_slug_in_its_query() -> None:
    default = respond(ROOT, "/strict.html", API).body.decode()
    chosen = respond(ROOT, "/strict.html?slug=my-story-2", API).body.decode()
    hostile = respond(ROOT, '/strict.html?slug="><script>x()</script>', API).body.decode()

    assert 'data-newsroom-comments="storm-isolde-clean-up"' in default
    assert 'data-newsroom-comments="my-story-2"' in chosen
    assert hostile == default


def test_csp_names_the_origin_of_an_api_served_at_a_custom_domains_root() -> None:
    policy = content_security_policy("index.html", "https://comments.example.com")

    assert "connect-src https://comments.example.com;" in policy


def test_head_is_answered_without_a_body() -> None:
    reply = respond(ROOT, "/index.html", API, method="HEAD")

    assert reply.status == 200
    assert reply.body == b""
    assert int(header(reply, "Content-Length")) == len(respond(ROOT, "/index.html", API).body)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_are_refused_with_405(method: str) -> None:
    reply = respond(ROOT, "/index.html", API, method=method)

    assert reply.status == 405
    assert header(reply, "Allow") == "GET, HEAD"


# What it refuses


@pytest.mark.parametrize(
    "target",
    [
        "/no-such-page.html",
        "/../pyproject.toml",
        "/..%2F..%2Fpyproject.toml",
        "/%2e%2e/%2e%2e/pyproject.toml",
        "/..\\..\\pyproject.toml",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/.hidden",
        "/index.html%00.css",
    ],
)
def test_anything_but_a_file_of_the_site_is_a_404(target: str) -> None:
    reply = respond(ROOT, target, API)

    assert reply.status == 404
    assert b"root:" not in reply.body
    assert b"[project]" not in reply.body


def test_a_symlink_out_of_the_site_is_a_404(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (site / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (site / "ok.txt").write_text("fine")

    assert respond(site, "/leak.txt", API).status == 404
    assert respond(site, "/ok.txt", API).body == b"fine"


def test_a_file_in_a_subfolder_is_not_served(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_text("<p>hi</p>")

    assert respond(tmp_path, "/sub/page.html", API).status == 404


# The files, as a site owner copies them


class _Markup(HTMLParser):
    """Every script tag, style tag and attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.styles = 0
        self.attributes: list[str] = []
        self.counts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [name for name, _ in attrs]
        values = dict(attrs)
        if tag == "script":
            self.scripts.append(values)
        if tag == "style":
            self.styles += 1
        if "data-newsroom-count" in values:
            self.counts.append(str(values["data-newsroom-count"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))


def markup(page: Path) -> _Markup:
    parsed = _Markup()
    parsed.feed(page.read_text(encoding="utf-8"))
    return parsed


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_has_inline_script_or_style(page: Path) -> None:
    parsed = markup(page)

    assert all(script.get("src") for script in parsed.scripts)
    assert parsed.styles == 0
    assert "style" not in parsed.attributes
    assert not [name for name in parsed.attributes if name.startswith("on")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_embeds_the_widget_as_the_snippet_says(page: Path) -> None:
    widget = [s for s in markup(page).scripts if str(s.get("src")).endswith("/comments.js")]

    assert widget == [{"async": None, "src": f"{API_BASE_PLACEHOLDER}/embed/comments.js"}]


def test_front_page_lists_every_demo_article_with_its_count_and_link() -> None:
    demo = {
        load_article_file(path).slug
        for path in collect_files([PROJECT_ROOT / "content" / "articles"])
    }

    parsed = markup(ROOT / "index.html")

    assert set(parsed.counts) == demo
    assert len(parsed.counts) == len(demo)
    assert {f"article.html?slug={slug}" for slug in demo} <= set(parsed.links)


def test_article_page_runs_site_js_before_the_widget_and_after_the_placeholder() -> None:
    page = (ROOT / "article.html").read_text(encoding="utf-8")

    placeholder = page.index('<div data-newsroom-comments="ARTICLE-SLUG"></div>')
    site_js = page.index('<script src="site.js"></script>')
    widget = page.index(f'<script async src="{API_BASE_PLACEHOLDER}/embed/comments.js">')
    assert placeholder < site_js < widget


def test_site_js_inserts_only_the_apis_article_html_as_html() -> None:
    script = (ROOT / "site.js").read_text(encoding="utf-8")

    assert re.findall(r"\.innerHTML\s*=\s*([^;]+);", script) == ["article.body_html"]
    assert "eval(" not in script
