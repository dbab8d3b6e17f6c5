"""Memory benchmark of `newsroom import wordpress` (`make bench-import`): a generated export of
about 200 MB imported into an emulator started for it, the import's peak RSS under 100 MB.

The export is written to a temporary directory: posts of a few kilobytes, each with a dozen
comments of about 1.5 KB (every status, threads several levels deep, non-ASCII text, CDATA
split around ``]]>``), plus pages and pingbacks to skip. The emulator (moto's server) runs in
this process, so its memory (it holds every item written) is not the import's; the import runs
as a child process, exactly as `newsroom import wordpress --local` is run by hand (its `main`,
in a fresh interpreter), and its peak RSS is the kernel's high-water mark of that process,
VmHWM, which it reads from /proc/self/status as it ends. (Not `wait4`'s `ru_maxrss`: that
also counts the parent's memory the child was forked from before it ran Python.)

moto backs up each table a transaction touches (a deep copy of the whole table) before applying
it, which makes a long import quadratic in time; the bench's transactions never fail, so here
they are applied without that backup. The import's own code and requests are unchanged.

Not a timed test: it prints items per second for the record, and fails only on memory.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MAX_RSS_BYTES = 100 * 1024 * 1024
TARGET_BYTES = 200 * 1000 * 1000
COMMENTS_PER_POST = 12
STATUSES = ("1", "1", "1", "1", "1", "1", "0", "spam", "trash", "1", "post-trashed", "1")
TEXT = (
    "The harbour wall held through the night, but the café on the quay lost its awning; "
    "Zoë says the council knew. Ещё один ответ — 日本語も。 "
)


def _comment(cid: int, parent: int, status: str, day: int, body: str, kind: str = "") -> str:
    return (
        "\t\t<wp:comment>\n"
        f"\t\t\t<wp:comment_id>{cid}</wp:comment_id>\n"
        f"\t\t\t<wp:comment_author><![CDATA[Reader {cid % 5000}]]></wp:comment_author>\n"
        f"\t\t\t<wp:comment_author_email><![CDATA[reader{cid % 5000}@example.org]]>"
        "</wp:comment_author_email>\n"
        "\t\t\t<wp:comment_author_url>https://reader.example.org/</wp:comment_author_url>\n"
        f"\t\t\t<wp:comment_author_IP><![CDATA[198.51.100.{cid % 250}]]></wp:comment_author_IP>\n"
        f"\t\t\t<wp:comment_date_gmt><![CDATA[2020-01-{day:02d} 10:{cid % 60:02d}:00]]>"
        "</wp:comment_date_gmt>\n"
        f"\t\t\t<wp:comment_content><![CDATA[{body}]]></wp:comment_content>\n"
        f"\t\t\t<wp:comment_approved><![CDATA[{status}]]></wp:comment_approved>\n"
        f"\t\t\t<wp:comment_type><![CDATA[{kind}]]></wp:comment_type>\n"
        f"\t\t\t<wp:comment_parent>{parent}</wp:comment_parent>\n"
        "\t\t</wp:comment>\n"
    )


def _item(post_id: int, kind: str, comments: str) -> str:
    body = (f"{TEXT}\n" * 6 + "\n") * 3
    return (
        "\t<item>\n"
        f"\t\t<title><![CDATA[Post {post_id} &amp; its news]]></title>\n"
        f"\t\t<link>https://bench.example.org/post-{post_id}/</link>\n"
        "\t\t<dc:creator><![CDATA[ada]]></dc:creator>\n"
        f'\t\t<guid isPermaLink="false">https://bench.example.org/?p={post_id}</guid>\n'
        f"\t\t<content:encoded><![CDATA[{body}]]></content:encoded>\n"
        "\t\t<excerpt:encoded><![CDATA[]]></excerpt:encoded>\n"
        f"\t\t<wp:post_id>{post_id}</wp:post_id>\n"
        "\t\t<wp:post_date_gmt><![CDATA[2020-01-01 09:00:00]]></wp:post_date_gmt>\n"
        "\t\t<wp:comment_status><![CDATA[open]]></wp:comment_status>\n"
        f"\t\t<wp:post_name><![CDATA[bench-post-{post_id}]]></wp:post_name>\n"
        "\t\t<wp:status><![CDATA[publish]]></wp:status>\n"
        f"\t\t<wp:post_type><![CDATA[{kind}]]></wp:post_type>\n"
        '\t\t<category domain="category" nicename="harbour"><![CDATA[Harbour]]></category>\n'
        f"{comments}\t</item>\n"
    )


def generate(path: Path, target_bytes: int = TARGET_BYTES) -> tuple[int, int]:
    """Write an export of about `target_bytes`; (posts, comments to import) in it."""
    posts = comments = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0"'
            ' xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"'
            ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "\t<title>Bench</title>\n\t<link>https://bench.example.org</link>\n"
            "\t<wp:base_site_url>https://bench.example.org</wp:base_site_url>\n"
            "\t<wp:author><wp:author_login>ada</wp:author_login><wp:author_email>"
            "ada@bench.example.org</wp:author_email><wp:author_display_name>Ada"
            "</wp:author_display_name></wp:author>\n"
        )
        post_id = 0
        while out.tell() < target_bytes:
            post_id += 1
            if post_id % 50 == 0:  # a page, skipped with its comments
                out.write(_item(post_id, "page", ""))
                continue
            parts = []
            for n in range(COMMENTS_PER_POST):
                cid = post_id * 100 + n
                parent = 0 if n % 4 == 0 else cid - 1  # threads four deep
                body = f"{TEXT * 9}\n\nA second paragraph ]]]]><![CDATA[> with <em>emphasis</em>."
                parts.append(_comment(cid, parent, STATUSES[n], 1 + n, body))
            parts.append(_comment(post_id * 100 + 99, 0, "1", 28, "ping", kind="pingback"))
            out.write(_item(post_id, "post", "".join(parts)))
            posts += 1
            comments += COMMENTS_PER_POST
        out.write("</channel>\n</rss>\n")
    return posts, comments


def _apply_transactions_without_backups() -> None:
    """moto's table backup per transaction, made a no-op (see the module's docstring)."""
    from newsroom_tools import emulator

    def no_copy(self: Any, value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, self._table_type) else __import__("copy").deepcopy(value)

    emulator._TableBackups.deepcopy = no_copy  # type: ignore[method-assign]


def run_child(argv: list[str]) -> int:
    """Run `newsroom` with `argv`, then print this process's VmHWM line to stderr."""
    from newsroom_tools.cli import main as newsroom

    try:
        return newsroom(argv)
    finally:
        status = Path("/proc/self/status").read_text()
        print(
            next(line for line in status.splitlines() if line.startswith("VmHWM")), file=sys.stderr
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return run_child(argv[1:])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=TARGET_BYTES // 1_000_000)
    parser.add_argument("--keep", type=Path, help="also keep the generated export here")
    args = parser.parse_args(argv)

    import boto3

    from newsroom_tools import emulator
    from newsroom_tools.runner import free_port
    from newsroom_tools.template import load_template, provision

    _apply_transactions_without_backups()
    port = free_port()
    running = emulator.start(emulator.DEFAULT_HOST, port, reuse=False)
    try:
        endpoint = f"http://{emulator.DEFAULT_HOST}:{port}"
        credentials = emulator.FAKE_CREDENTIALS
        db = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=emulator.REGION,
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        )
        os.environ.update({**credentials, "AWS_DEFAULT_REGION": emulator.REGION})
        provision(db, load_template())
        with tempfile.TemporaryDirectory(prefix="newsroom-bench-import-") as directory:
            export = Path(directory) / "export.xml"
            posts, comments = generate(export, args.megabytes * 1_000_000)
            size = export.stat().st_size
            print(f"export: {size / 1e6:.1f} MB, {posts} posts, {comments} comments to import")
            command = [
                sys.executable, "-m", "tests.bench.import_memory", "--child", "import",
                "wordpress", str(export), "--local", "--emulator-port", str(port),
            ]  # fmt: skip
            started = time.monotonic()
            child = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            elapsed = time.monotonic() - started
            output = child.stdout
            if args.keep:
                args.keep.write_bytes(export.read_bytes())
        found = re.search(r"^VmHWM:\s+(\d+) kB", child.stderr, re.MULTILINE)
        if found is None:
            print(child.stderr, file=sys.stderr)
            return 1
        peak = int(found.group(1)) * 1024
        report = output[output.rfind("WordPress export") :]
        print(report)
        items = posts + comments
        print(
            f"import: exit {child.returncode}, {elapsed:.1f} s, {items / elapsed:.0f} items/s "
            f"({items} articles and comments), peak RSS (VmHWM) {peak / 2**20:.1f} MiB "
            f"(limit {MAX_RSS_BYTES / 2**20:.0f} MiB)"
        )
    finally:
        running.stop()
    if child.returncode != 0:
        print("FAIL: the import failed", file=sys.stderr)
        return 1
    if peak >= MAX_RSS_BYTES:
        print("FAIL: the import's peak RSS is over the limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
