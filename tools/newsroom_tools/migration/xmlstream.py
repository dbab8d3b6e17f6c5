"""Reading an untrusted export file as a stream of elements, in bounded memory.

The bytes are gunzipped when they start with gzip's magic number, counted against a cap (a
gzip bomb stops there), and the control characters XML 1.0 forbids are replaced by spaces
(WordPress's own importer does the same; real exports hold them). defusedxml's parser then
refuses any DOCTYPE, entity declaration or external reference. Each wanted element is handed
over complete, with the line it starts on, and is removed from the tree once the caller is done
with it, so what is kept is one element at a time (and the small elements before it).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import DefusedXMLParser  # type: ignore[import-untyped]

CHUNK_BYTES = 64 * 1024
# What a decompressed export may hold, and one element's text: larger is refused.
MAX_BYTES = 4 * 1024**3
MAX_TEXT_CHARS = 2_000_000
_ILLEGAL_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_GZIP_MAGIC = b"\x1f\x8b"
# Lines holding replaced control characters that are reported one by one.
MAX_LISTED_CONTROL_LINES = 20


class ExportFileError(Exception):
    """The file cannot be read as a safe, well-formed XML export (the message says why)."""


@dataclass
class StreamStats:
    """What reading the file found on the way."""

    bytes_read: int = 0  # of the file as stored (compressed, if it is)
    size: int = 0  # the file's size on disk
    control_characters: int = 0
    control_lines: list[int] = field(default_factory=list)


class _CleanStream:
    """A file's bytes, gunzipped if need be, capped, with illegal control characters
    replaced by spaces (same length, so line numbers stay right)."""

    def __init__(self, raw: IO[bytes], stats: StreamStats, max_bytes: int) -> None:
        self._raw = raw
        self._stats = stats
        self._max = max_bytes
        self._total = 0
        self._line = 1
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        self._source: IO[bytes] | gzip.GzipFile = (
            gzip.GzipFile(fileobj=raw) if head == _GZIP_MAGIC else raw
        )

    def read(self, size: int = CHUNK_BYTES) -> bytes:
        try:
            data = self._source.read(size)
        except (OSError, EOFError) as exc:  # a truncated or corrupt gzip file
            raise ExportFileError(f"the compressed file cannot be read: {exc}") from exc
        self._stats.bytes_read = self._raw.tell()
        self._total += len(data)
        if self._total > self._max:
            raise ExportFileError(
                f"the export holds more than {self._max:,} bytes (decompressed): refused"
            )
        if _ILLEGAL_CONTROLS.search(data):
            for found in _ILLEGAL_CONTROLS.finditer(data):
                self._stats.control_characters += 1
                line = self._line + data.count(b"\n", 0, found.start())
                lines = self._stats.control_lines
                if len(lines) < MAX_LISTED_CONTROL_LINES and (not lines or lines[-1] != line):
                    lines.append(line)
            data = _ILLEGAL_CONTROLS.sub(b" ", data)
        self._line += data.count(b"\n")
        return data


@dataclass
class Found:
    """A wanted element, complete, and the line its start tag is on."""

    element: Element
    line: int
    # Its ancestors' tags, outermost first.
    ancestors: tuple[str, ...]
    # True when some text inside it was cut at MAX_TEXT_CHARS.
    truncated: bool = False
    # The line of each element inside it whose tag `elements`' `note_line` names.
    lines: dict[int, int] = field(default_factory=dict)

    def line_of(self, element: Element) -> int:
        """The line an element inside this one starts on (its own if not noted)."""
        return self.lines.get(id(element), self.line)


class _Builder:
    """Builds the tree as ElementTree's TreeBuilder does, noting each element's line, the
    namespaces declared, and handing over wanted elements when they end."""

    def __init__(
        self,
        wanted: Callable[[str, tuple[str, ...]], bool],
        max_text: int,
        note_line: Callable[[str], bool],
    ) -> None:
        self._wanted = wanted
        self._note_line = note_line
        self._noted: dict[int, int] = {}
        self._max_text = max_text
        self._stack: list[Element] = []
        self._lines: list[int] = []
        self._text: list[str] = []
        self._text_chars = 0
        self._truncated = False
        self.parser: Any = None  # the expat parser, for line numbers (set after creation)
        self.namespaces: dict[str, str] = {}
        self.root: Element | None = None
        self.ready: list[Found] = []

    def _flush(self) -> None:
        if not self._text:
            return
        text = "".join(self._text)
        self._text = []
        self._text_chars = 0
        if not self._stack:
            return
        current = self._stack[-1]
        if len(current):
            last = current[-1]
            last.tail = (last.tail or "") + text
        else:
            current.text = (current.text or "") + text

    def start_ns(self, prefix: str, uri: str) -> None:
        self.namespaces.setdefault(prefix, uri)

    def start(self, tag: str, attrib: dict[str, str]) -> Element:
        self._flush()
        element = Element(tag, attrib)
        if self._stack:
            self._stack[-1].append(element)
        else:
            self.root = element
        self._stack.append(element)
        line = int(self.parser.CurrentLineNumber) if self.parser else 0
        self._lines.append(line)
        if self._note_line(tag):
            self._noted[id(element)] = line
        return element

    def data(self, text: str) -> None:
        if self._text_chars + len(text) > self._max_text:
            self._truncated = True
            text = text[: max(self._max_text - self._text_chars, 0)]
        self._text.append(text)
        self._text_chars += len(text)

    def end(self, tag: str) -> Element:
        self._flush()
        element = self._stack.pop()
        line = self._lines.pop()
        ancestors = tuple(e.tag for e in self._stack)
        if self._wanted(tag, ancestors):
            lines = {}
            if self._noted:
                lines = {
                    key: self._noted.pop(key)
                    for key in map(id, element.iter())
                    if key in self._noted
                }
            self.ready.append(Found(element, line, ancestors, self._truncated, lines))
            self._truncated = False
        return element

    def close(self) -> Element | None:
        return self.root

    def release(self, found: Found) -> None:
        """Forget a handed-over element: cleared, and removed from its parent if that is
        still open (it is, unless the document ended)."""
        found.element.clear()
        depth = len(found.ancestors)
        if depth and len(self._stack) >= depth:
            parent = self._stack[depth - 1]
            for index in range(len(parent) - 1, -1, -1):
                if parent[index] is found.element:
                    del parent[index]
                    break


def _position(exc: ParseError) -> str:
    position = getattr(exc, "position", None)
    if position:
        return f"line {position[0]}, column {position[1] + 1}"
    return "an unknown position"


def elements(
    path: Path,
    wanted: Callable[[str, tuple[str, ...]], bool],
    *,
    stats: StreamStats | None = None,
    max_bytes: int = MAX_BYTES,
    max_text: int = MAX_TEXT_CHARS,
    on_root: Callable[[Element, dict[str, str]], None] | None = None,
    note_line: Callable[[str], bool] = lambda tag: False,
) -> Iterator[Found]:
    """The elements of the XML file at `path` for which ``wanted(tag, ancestor tags)`` holds,
    each when it ends, in document order. Each is cleared and removed from the tree when the
    caller asks for the next one, so keep what you need of it, not the element.

    `note_line` names the tags of elements inside wanted ones whose lines are wanted too
    (`Found.line_of`). `on_root` is called once, with the root element (no children yet)
    and the namespaces declared up to it, before anything is handed over; it may raise
    `ExportFileError`.

    Raises
    ------
    ExportFileError
        When the file cannot be read, is not well-formed XML, declares a DOCTYPE or entities,
        or is larger than `max_bytes`.
    """
    stats = stats if stats is not None else StreamStats()
    builder = _Builder(wanted, max_text, note_line)
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser.parser
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ExportFileError(f"cannot be read: {exc.strerror or exc}") from exc
    rooted = False
    with raw:
        stats.size = path.stat().st_size
        stream = _CleanStream(raw, stats, max_bytes)
        while True:
            data = stream.read(CHUNK_BYTES)
            try:
                if data:
                    parser.feed(data)
                else:
                    parser.close()
            except DefusedXmlException as exc:
                line = builder.parser.CurrentLineNumber
                raise ExportFileError(
                    f"refused: line {line} declares a DOCTYPE, an entity or an external "
                    f"reference ({type(exc).__name__}); exports never do, and such a "
                    "declaration can hide an attack (entity expansion, reading local files)"
                ) from exc
            except ParseError as exc:
                raise ExportFileError(
                    f"not well-formed XML at {_position(exc)}: {_reason(exc)}"
                ) from exc
            if not rooted and builder.root is not None:
                rooted = True
                if on_root is not None:
                    on_root(builder.root, builder.namespaces)
            while builder.ready:
                found = builder.ready.pop(0)
                yield found
                builder.release(found)
            if not data:
                return


def _reason(exc: ParseError) -> str:
    text = str(exc)
    return text.split(":", 1)[0] if ": line" in text else text
