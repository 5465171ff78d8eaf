"""One alias move at a time on an embedded store: an exclusive file lock next to its ``registry.db``.

An alias move reads the alias (the record's ``from``), writes the audit
record, then moves the alias. Two processes doing that at once could both read
the same ``from``; holding ``registry.db.lock`` for the whole read-record-move
makes the records a chain (each ``from`` is the previous move's ``to``).

A tracking server (``http://...``, a database URI) cannot be locked from here:
the move re-reads the alias after writing and records what it saw (see
:mod:`workbench.registry.audit`). Platforms without ``fcntl`` (Windows) get no
lock either; records are still never lost (each is its own tag).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import RegistryError
from workbench.registry.location import RegistryLocation

#: seconds to wait for another process's alias move before giving up
LOCK_TIMEOUT_S = 60.0
_POLL_S = 0.05


def lock_path(location: RegistryLocation) -> Path | None:
    """``<registry.db>.lock`` of an embedded store, else None."""
    db = location.database
    return None if db is None else db.with_name(db.name + ".lock")


@contextmanager
def registry_lock(location: RegistryLocation, *, timeout: float = LOCK_TIMEOUT_S) -> Iterator[bool]:
    """Hold the store's move lock while the block runs; yields whether a lock is held (False: remote store).

    The lock belongs to the open file: a process that dies releases it, so a
    lock file left behind never blocks anyone.
    """
    path = lock_path(location)
    try:
        import fcntl
    except ImportError:  # no advisory locks here: records stay safe, `from` may race (see the module doc)
        fcntl = None
    if path is None or fcntl is None:
        yield False
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RegistryError(f"cannot open the registry's lock file '{path}': {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RegistryError(
                        f"another process has held the registry's lock '{path}' for over {timeout:g} s "
                        "(an alias move in progress); try again when it has finished"
                    ) from None
                time.sleep(_POLL_S)
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
