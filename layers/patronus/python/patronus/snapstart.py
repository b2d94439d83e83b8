"""Lambda SnapStart runtime hooks, in one registry that runs the same everywhere.

With SnapStart, Lambda runs a function's initialisation once when a version is published, takes a
snapshot of the memory, and starts every new execution environment of that version from the
snapshot. Code can run just before the snapshot (to do now what a first request would otherwise
pay for) and just after each restore (to undo what must not be shared between environments:
database connections, credentials-bound clients, random state).

The managed Python runtime offers the hooks through its ``snapshot_restore_py`` module. This
module keeps its own registry (:data:`hooks`) and hands it to that module when it is present, so
that functions register their hooks the same way in Lambda, locally and in tests, where the
module is absent and a test or a benchmark runs :meth:`SnapshotHooks.run_before_snapshot` and
:meth:`SnapshotHooks.run_after_restore` itself.

Order follows AWS's: before-snapshot hooks run in the reverse order of registration, after-restore
hooks in the order of registration. An after-restore hook must finish within Lambda's 10 seconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

Hook = Callable[[], object]
H = TypeVar("H", bound=Hook)


class SnapshotHooks:
    """Callables to run before a snapshot and after a restore."""

    def __init__(self) -> None:
        self._before: list[Hook] = []
        self._after: list[Hook] = []

    def before_snapshot(self, hook: H) -> H:
        """Register ``hook`` (usable as a decorator) to run before the snapshot."""
        self._before.append(hook)
        return hook

    def after_restore(self, hook: H) -> H:
        """Register ``hook`` (usable as a decorator) to run after each restore."""
        self._after.append(hook)
        return hook

    def run_before_snapshot(self) -> None:
        for hook in reversed(self._before):
            hook()

    def run_after_restore(self) -> None:
        for hook in self._after:
            hook()


def attach(registry: SnapshotHooks) -> bool:
    """Hand ``registry`` to the Lambda runtime's hook module; False where there is none."""
    try:
        import snapshot_restore_py  # the managed runtime's module
    except ImportError:
        return False
    snapshot_restore_py.register_before_snapshot(registry.run_before_snapshot)
    snapshot_restore_py.register_after_restore(registry.run_after_restore)
    return True


def reseed_random() -> None:
    """Every restored environment would otherwise draw the same ``random`` numbers as its
    siblings (``secrets``, ``uuid4`` and ``os.urandom`` read the kernel, which SnapStart reseeds)."""
    random.seed()


hooks = SnapshotHooks()
hooks.after_restore(reseed_random)
ATTACHED = attach(hooks)
