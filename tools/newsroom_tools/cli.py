"""The `newsroom` command: import articles, run the API locally, invoke a function with an event,
back up and restore the content table.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `run(args) -> int`;
those modules keep heavy imports (moto, the handlers) inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

# subcommand words -> (module, help)
_COMMANDS = {
    ("articles", "import"): (
        "newsroom_tools.importer",
        "load Markdown/JSON articles into the table",
    ),
    ("articles", "retag"): (
        "newsroom_tools.retag",
        "rewrite every public article's tag items from the stored article (after an upgrade)",
    ),
    ("articles", "register"): (
        "newsroom_tools.articles_api",
        "register an article your site's CMS hosts (the admin API, signed with your AWS "
        "credentials)",
    ),
    ("articles", "update"): (
        "newsroom_tools.articles_api",
        "update a registered article: its url, title, author, body, ...",
    ),
    ("articles", "close"): ("newsroom_tools.articles_api", "close an article's comments"),
    ("articles", "open"): ("newsroom_tools.articles_api", "open an article's comments again"),
    ("articles", "delete"): (
        "newsroom_tools.articles_api",
        "delete an article (refused while it has comments, unless --with-comments)",
    ),
    ("secret", "rekey"): (
        "newsroom_tools.rekey",
        "after a key rotation, re-derive what comments store under the current key",
    ),
    ("moderation", "dry-run"): (
        "newsroom_tools.dry_run",
        "judge past comments by a proposed policy",
    ),
    ("emails", "list"): (
        "newsroom_tools.email_log",
        "the email log: the notifications' emails by status, newest first",
    ),
    ("emails", "unsuppress"): (
        "newsroom_tools.unsuppress",
        "send to an address again that a bounce or a complaint suppressed",
    ),
    ("import", "wordpress"): (
        "newsroom_tools.migration.import_wordpress",
        "import a WordPress export (WXR): posts as articles, with their comments",
    ),
    ("import", "disqus"): (
        "newsroom_tools.migration.import_disqus",
        "import a Disqus export's comments onto their articles",
    ),
    ("run",): ("newsroom_tools.runner", "run the whole system locally (no Docker, no AWS)"),
    ("invoke",): ("newsroom_tools.invoke", "invoke one function with an event file, locally"),
    ("export",): ("newsroom_tools.export", "back up the content table to a .jsonl.gz file"),
    ("import", "backup"): ("newsroom_tools.restore", "restore a backup into an empty table"),
    ("costs",): (
        "newsroom_tools.costs",
        "a month's cost at list prices for 10k, 100k and 1M page views a day (docs/costs.md)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsroom", description=__doc__)
    top = parser.add_subparsers(dest="command", required=True)
    groups = {}
    for words, (module_name, help_text) in _COMMANDS.items():
        subparsers = top
        if len(words) == 2:
            if words[0] not in groups:
                group = top.add_parser(words[0], help=f"{words[0]} commands")
                groups[words[0]] = group.add_subparsers(dest="subcommand", required=True)
            subparsers = groups[words[0]]
        sub = subparsers.add_parser(words[-1], help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
