"""What a load run is asked to do: its options, their bounds, and the error for a run that
cannot start."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from newsroom_tools import emulator as local_emulator

DEFAULT_POSTS = 200
DEFAULT_READERS = 4
DEFAULT_SECONDS = 60.0
DEFAULT_ARTICLES = 4
DEFAULT_WRITERS = 8
DEFAULT_FLOOD_INTERVAL = 15  # CommentsSettings.flood_interval_seconds
MIN_POSTS = 12


class LoadSetupError(Exception):
    """The run cannot start: a bad option, or a system that is not there."""


@dataclass(frozen=True)
class LoadOptions:
    posts: int = DEFAULT_POSTS
    readers: int = DEFAULT_READERS
    seconds: float = DEFAULT_SECONDS
    articles: int = DEFAULT_ARTICLES
    writers: int = DEFAULT_WRITERS
    api: str | None = None
    emulator_port: int = local_emulator.DEFAULT_PORT
    flood_interval: int | None = None  # None: the system's own (15 s unless set)
    keep_articles: bool = False  # leave the run's articles (and so its comments) on the site
    drain_seconds: float = 60.0  # how long the stream may take to deliver, each time
    seed: int | None = None


def validate(options: LoadOptions) -> None:
    """Raise `LoadSetupError` for options out of range, a non-loopback `api`, or a machine
    that cannot send from 127.x.y.z."""
    if options.posts < MIN_POSTS:
        raise LoadSetupError(f"--posts must be at least {MIN_POSTS}")
    if options.articles < 1 or options.writers < 1 or options.readers < 0:
        raise LoadSetupError("--articles and --writers must be at least 1, --readers at least 0")
    if options.seconds <= 0:
        raise LoadSetupError("--seconds must be positive")
    if options.api is not None:
        host = urlsplit(options.api).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise LoadSetupError(f"--api must be a loopback URL, not {options.api!r}")
    check_loopback_sources()


def check_loopback_sources() -> None:
    """Raise `LoadSetupError` when this machine cannot send from 127.x.y.z addresses."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.31.41.59", 0))
        except OSError as exc:
            raise LoadSetupError(
                "cannot send from 127.x.y.z addresses here (Linux routes all of 127/8 to "
                f"loopback; this system does not): {exc}"
            ) from exc
