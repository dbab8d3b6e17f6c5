"""WordPress's paragraph rules (`wpautop`), which it applies to a post's and a comment's raw
text each time it shows them: blank lines make paragraphs, single newlines line breaks.

A port of `wpautop()` in wp-includes/formatting.php (WordPress 6.x), rule for rule, less the
parts for elements no sanitiser here keeps (``<option>``, ``<object>``). Block-editor content
(``<!-- wp:... -->``) is not passed through it, as WordPress does not (`do_blocks`).
"""

from __future__ import annotations

import re

_ALL_BLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre"
    r"|form|map|area|blockquote|address|style|p|h[1-6]|hr|fieldset|legend|section|article"
    r"|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)"
)
_NEWLINE_MARK = " <!-- wpnl --> "
# A tag or an HTML comment, as wp_html_split finds them (near enough for newlines in tags).
_TAG_OR_COMMENT = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
_BLOCK_MARKER = "<!-- wp:"
_SHORTCODE_WRAPPERS = re.compile(r"\[/?caption[^\]]*\]")
_SHORTCODE = re.compile(r"\[(/?)([a-zA-Z][\w-]*)(?:\s[^\]]*)?\]")
# Headings as the article renderer clamps them (h2 to h4; the page's title is its only h1).
_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)


def has_blocks(text: str) -> bool:
    """Whether the text is the block editor's (WordPress then skips wpautop)."""
    return _BLOCK_MARKER in text


def wpautop(text: str, *, br: bool = True) -> str:
    """`text` with paragraphs and line breaks as WordPress shows it."""
    if not text.strip():
        return ""
    text = text + "\n"
    pre_tags: dict[str, str] = {}
    if "<pre" in text:
        parts = text.split("</pre>")
        last = parts.pop()
        text = ""
        for i, part in enumerate(parts):
            start = part.find("<pre")
            if start == -1:  # malformed HTML
                text += part
                continue
            name = f"<pre wp-pre-tag-{i}></pre>"
            pre_tags[name] = part[start:] + "</pre>"
            text += part[:start] + name
        text += last
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text)
    text = re.sub(rf"(<{_ALL_BLOCKS}[\s/>])", r"\n\n\1", text)
    text = re.sub(rf"(</{_ALL_BLOCKS}>)", r"\1\n\n", text)
    text = re.sub(r"(<hr\s*?/?>)", r"\1\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TAG_OR_COMMENT.sub(lambda m: m.group().replace("\n", _NEWLINE_MARK), text)
    if "<figcaption" in text:
        text = re.sub(r"\s*(<figcaption[^>]*>)", r"\1", text)
        text = re.sub(r"</figcaption>\s*", "</figcaption>", text)
    text = re.sub(r"\n\n+", "\n\n", text)
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p]
    text = "".join(f"<p>{p.strip(chr(10))}</p>\n" for p in paragraphs)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(rf"<p>\s*(</?{_ALL_BLOCKS}[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text)
    text = re.sub(r"<p><blockquote([^>]*)>", r"<blockquote\1><p>", text, flags=re.IGNORECASE)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(rf"<p>\s*(</?{_ALL_BLOCKS}[^>]*>)", r"\1", text)
    text = re.sub(rf"(</?{_ALL_BLOCKS}[^>]*>)\s*</p>", r"\1", text)
    if br:
        text = re.sub(
            r"<(script|style|svg|math).*?</\1>",
            lambda m: m.group().replace("\n", "<WPPreserveNewline />"),
            text,
            flags=re.DOTALL,
        )
        text = text.replace("<br>", "<br />").replace("<br/>", "<br />")
        text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
        text = text.replace("<WPPreserveNewline />", "\n")
    text = re.sub(rf"(</?{_ALL_BLOCKS}[^>]*>)\s*<br />", r"\1", text)
    text = re.sub(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text)
    text = re.sub(r"\n</p>$", "</p>", text)
    for name, original in pre_tags.items():
        text = text.replace(name, original)
    if "<!-- wpnl -->" in text:
        text = text.replace(_NEWLINE_MARK, "\n").replace("<!-- wpnl -->", "\n")
    return text


def without_caption_shortcodes(text: str) -> str:
    """`[caption ...]<img> Text[/caption]` as the image and its text (what it wraps)."""
    return _SHORTCODE_WRAPPERS.sub("", text)


def shortcodes(text: str) -> list[str]:
    """The names of the shortcodes left in `text` (``[gallery ids="1,2"]`` → ``gallery``),
    each once: WordPress's plugins expanded them; here they stay as written."""
    return list(dict.fromkeys(m.group(2) for m in _SHORTCODE.finditer(text) if not m.group(1)))


def post_html(content: str) -> str:
    """A post's raw `content:encoded` as WordPress would show it, before sanitising: the
    paragraph rules for classic content, none for block content (its comments are dropped by
    the sanitiser), caption shortcodes unwrapped, headings kept within h2 to h4."""
    content = without_caption_shortcodes(content)
    html = content.strip() if has_blocks(content) else wpautop(content)
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{min(max(int(m.group(2)), 2), 4)}", html)


def comment_html(content: str) -> str:
    """A comment's raw text as WordPress shows it, before sanitising."""
    return wpautop(content)
