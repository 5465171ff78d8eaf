"""The file hash of a registered artifact, and the refusal of one that changed since it was registered.

Light on purpose (hashlib only): MLflow's own loader runs it in
:mod:`workbench.registry.pyfunc_model` before anything is read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from workbench.errors import RegistryError

_CHUNK = 1 << 20


def artifact_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of an artifact as stored: the file's bytes, or for a folder every file's name and bytes.

    A folder's hash covers the relative names of its regular files in sorted
    order, so a renamed, added or removed file changes it too. Links are not
    followed (the safe loader refuses them anyway); they enter as their target text.
    """
    path = Path(path)
    if not os.path.lexists(path):
        raise RegistryError(
            f"the registered artifact '{path}' does not exist: it was deleted after registration"
        )
    if not path.is_dir():
        return _file_sha256(path)
    outer = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_symlink() or p.is_file()):
        rel = item.relative_to(path).as_posix()
        digest = (
            hashlib.sha256(os.readlink(item).encode()).hexdigest()
            if item.is_symlink()
            else _file_sha256(item)
        )
        outer.update(f"{rel}\0{digest}\n".encode())
    return outer.hexdigest()


def verify_artifact(path: str | os.PathLike, expected: str | None, what: str) -> str:
    """`path`'s hash when it equals `expected`; a :class:`RegistryError` naming `what` otherwise."""
    if not expected:
        raise RegistryError(
            f"{what} has no registered file hash (tag workbench.sha256): "
            "it was not registered by workbench; register the model file again"
        )
    actual = artifact_sha256(path)
    if actual != expected:
        raise RegistryError(
            f"{what}: the artifact at '{path}' does not match the hash registered for it "
            f"({actual[:12]}… instead of {expected[:12]}…); it was altered after registration, "
            "so it is refused: register the intended file again"
        )
    return actual


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
