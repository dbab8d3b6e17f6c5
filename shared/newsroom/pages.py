"""Small HTML pages for people who follow a link from an email (everything escaped)."""

from __future__ import annotations

import html

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em}"
    "button{font-size:1.1em;padding:.5em 1.5em}"
)


def page(title: str, message: str, *, button: str | None = None, action_url: str = "") -> str:
    """A page with a message and, when given, one button that POSTs to `action_url`."""
    e = html.escape
    form = ""
    if button:
        form = (
            f'<form method="post" action="{e(action_url, quote=True)}">'
            f'<button type="submit">{e(button)}</button></form>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{e(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{e(title)}</h1><p>{e(message)}</p>{form}</body></html>"
    )
