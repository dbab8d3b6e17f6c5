"""What tests that start a local run (`newsroom_tools.runner.LocalSystem`) share."""

from __future__ import annotations

import uuid


def own_table_prefix() -> str:
    """A table prefix of the local run's own: moto's state is the process's, so local runs
    started one after another in one test process would otherwise share tables and see each
    other's articles, comments and emails, as the order the modules run in decides."""
    return f"l{uuid.uuid4().hex[:8]}-"
