"""What a load run posts: its commenters, its articles' slugs and authors, and every post in
the order it is sent, from the counts alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from newsroom_tools.load.options import MIN_POSTS, LoadSetupError

Role = Literal["setup", "first", "regular", "duplicate", "retry"]


@dataclass(frozen=True)
class Commenter:
    name: str
    email: str


@dataclass(frozen=True)
class Post:
    """One comment the run means to post (a duplicate shares its original's marker)."""

    number: int
    role: Role
    slug: str
    commenter: Commenter
    marker: str
    notify: bool = False
    parent_marker: str | None = None
    regular: int | None = None  # which regular posts it (setup and regular posts)

    @property
    def body(self) -> str:
        return f"Load comment {self.marker}: a *reader's* view, under load."

    def form(self, parent_id: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {
            "author_name": self.commenter.name,
            "author_email": self.commenter.email,
            "body": self.body,
            "notify_replies": self.notify,
        }
        if parent_id is not None:
            values["parent_id"] = parent_id
        return values


@dataclass(frozen=True)
class Plan:
    run: str
    slugs: tuple[str, ...]
    authors: Mapping[str, str]  # slug -> the article author's email
    setup: tuple[Post, ...]
    main: tuple[Post, ...]  # in the order they are sent

    @property
    def marker_tag(self) -> str:
        return f"ld{self.run}n"

    def requests(self) -> int:
        """POST requests the plan makes (a retried post is two)."""
        return len(self.setup) + sum(2 if p.role == "retry" else 1 for p in self.main)


def make_plan(run: str, *, posts: int, articles: int) -> Plan:
    """What a run posts, from the counts alone (see the module docstring for the mix)."""
    if posts < MIN_POSTS:
        raise LoadSetupError(f"--posts must be at least {MIN_POSTS}")
    if articles < 1:
        raise LoadSetupError("--articles must be at least 1")
    slugs = tuple(f"load-{run}-{k}" for k in range(articles))
    authors = {slug: f"load-{run}-author-{k}@example.org" for k, slug in enumerate(slugs)}
    regulars = max(2, posts // 10)
    duplicates = max(1, posts // 20)
    retries = max(1, posts // 20)
    first = posts - 2 * regulars - duplicates - 2 * retries
    numbers = iter(range(1, 10 * posts))

    def marker(number: int) -> str:
        return f"ld{run}n{number:05d}"

    def person(label: str) -> Commenter:
        return Commenter(f"Reader {label}", f"load-{run}-{label}@example.org")

    setup = []
    for j in range(regulars):
        n = next(numbers)
        setup.append(
            Post(n, "setup", slugs[j % articles], person(f"r{j}"), marker(n), True, regular=j)
        )
    main: list[Post] = []
    originals = 0
    for i in range(first):
        n = next(numbers)
        if i % 3 == 2:
            parent = setup[i % regulars]
            post = Post(
                n, "first", parent.slug, person(f"f{i}"), marker(n), i % 2 == 0, parent.marker
            )
        else:
            post = Post(n, "first", slugs[i % articles], person(f"f{i}"), marker(n), i % 2 == 0)
        main.append(post)
        if post.parent_marker is None and originals < duplicates:
            originals += 1
            # The same person and text again, from another address, once flood control allows.
            main.append(Post(next(numbers), "duplicate", post.slug, post.commenter, post.marker))
        if i < retries:
            n = next(numbers)
            main.append(Post(n, "retry", slugs[(i + 1) % articles], person(f"k{i}"), marker(n)))
    for j in range(regulars):
        parent = setup[(j + 1) % regulars]
        n = next(numbers)
        main.append(
            Post(
                n,
                "regular",
                parent.slug,
                setup[j].commenter,
                marker(n),
                j % 2 == 0,
                parent.marker,
                regular=j,
            )
        )
    return Plan(run, slugs, authors, tuple(setup), tuple(main))
