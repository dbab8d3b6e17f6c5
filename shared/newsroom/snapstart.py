"""After a SnapStart restore, refreshes what the functions' init kept that must not be shared.

With the template's `SnapStart` on, Lambda runs a function's init once, when it publishes the
version, and starts each new execution environment from a snapshot of it: whatever init kept in
memory is then the same in every environment, and as old as the snapshot. After each restore,
`refresh_after_restore`

- drops the project keys' cache (`newsroom.secrets.project_keys`), so the next request that
  needs them reads SSM again: a key rotated since the snapshot is used at once, however long the
  snapshot was kept (an entry's age, on the monotonic clock, need not count that time);
- reseeds `random` from the operating system, so the retry jitter drawn from it (the comment
  writes' in `newsroom.data.comments`, botocore's) is not the same sequence in every environment.

Nothing else random or secret is kept from init. Ids and tokens (`secrets`, `uuid.uuid4`) read
the operating system's random source at each call; the settings hold names and limits, not
secrets; the AWS clients are made on first use, inside an invocation.

The hooks are registered with `snapshot_restore_py`, which Lambda's Python runtimes include, and
run only when Lambda restores a snapshot. Where it is not installed, nothing is registered.
"""

from __future__ import annotations

from functools import cache


def refresh_after_restore() -> None:
    """Make what init kept fit for this restored environment (see the module's docstring).

    Runs within the 10 s Lambda gives the hooks after a restore: it reads nothing remote.
    """
    import random

    from newsroom.secrets import project_keys

    project_keys.cache_clear()
    random.seed()  # from os.urandom


@cache
def register_restore_hooks() -> bool:
    """Have Lambda run `refresh_after_restore` after each SnapStart restore; once per process.

    A handler module calls it at import: Lambda runs only the hooks that its handler's imports
    registered.

    Returns
    -------
    bool
        Whether the hooks were registered (False where `snapshot_restore_py` is not installed).
    """
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(refresh_after_restore)
    return True
