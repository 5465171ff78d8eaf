"""Reading model files as hostile input: a model file cannot run code, write files or crash workbench.

A model file may come from anywhere, so nothing in it is believed until
checked. Three modules share the work, each holding one kind of check:

- **Containers** (this module). Only the members the format needs are read
  (``meta.json`` and ``model.skops`` or ``model.onnx``), each under a size cap
  that is checked against the zip's declared sizes *and* enforced while
  reading (a lying header does not help). Member names that are absolute or
  climb out with ``..``, duplicated names, encrypted members, compression
  methods workbench does not write, and links in a folder artifact that point
  outside it are refused. Files that are not regular files (a FIFO,
  ``/dev/zero``) are never read. Pickles and joblib files are recognised and
  refused; nothing here ever calls pickle or joblib. ``meta.json`` is parsed
  only when at most :data:`MAX_META_BYTES` and nested at most
  :data:`MAX_JSON_DEPTH` levels deep.
- **Trusted types** (:mod:`workbench.modeling._skops_trust`): the closed
  allow-list of classes a ``model.skops`` may hold, and loading it.
- **What a loaded model holds** (:mod:`workbench.modeling._model_structure`):
  tree node arrays, parameters, an ONNX graph's external data.

Size caps: ``meta.json`` 1 MiB, ``schema.json`` 64 MiB, the model member
:data:`DEFAULT_MAX_MODEL_BYTES` (2 GiB) unless the environment variable
``WORKBENCH_MAX_MODEL_BYTES`` says otherwise (bytes, or with a K/M/G suffix,
e.g. ``8G``). The same cap bounds the arrays inside a ``.skops`` file.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from workbench.errors import ModelFileError

MAX_META_BYTES = 1 << 20
MAX_SCHEMA_BYTES = 64 << 20
DEFAULT_MAX_MODEL_BYTES = 2 << 30
MAX_JSON_DEPTH = 64
MAX_MEMBERS = 200_000
MODEL_FILES = ("model.skops", "model.onnx")
_CHUNK = 1 << 20
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
_COMPRESSED_MAGIC = (
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x04\x22\x4d\x18",
    b"ZF",
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
)  # gzip, bz2, xz, lz4, joblib's zlib: how joblib compresses
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


# -- size caps --------------------------------------------------------------------------------
def max_model_bytes() -> int:
    """The cap on a model member (``WORKBENCH_MAX_MODEL_BYTES``, default 2 GiB)."""
    raw = os.environ.get("WORKBENCH_MAX_MODEL_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_MODEL_BYTES
    m = re.fullmatch(r"(\d+)\s*([KMG]?)i?B?", raw, re.I)
    if not m:
        raise ModelFileError(f"WORKBENCH_MAX_MODEL_BYTES must be a number of bytes (e.g. 4G), not '{raw}'")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


# -- reading an artifact ----------------------------------------------------------------------
def read_artifact(path: Path) -> tuple[dict, str, bytes]:
    """``(meta, model_file, model_bytes)`` of the artifact at `path` (zip file or folder), checked."""
    if not os.path.lexists(path):
        raise ModelFileError(f"the model file '{path}' does not exist")
    if path.is_dir():
        meta_raw = _read_folder_member(path, "meta.json", MAX_META_BYTES, required=False)
        if meta_raw is None:
            if (path / "schema.json").exists():
                raise ModelFileError(f"'{path}' is a bare skops folder; re-save the model with workbench")
            raise ModelFileError(f"'{path}' is not a workbench model: it has no meta.json")
        meta = parse_meta(meta_raw, path)
        model_file = _model_file(meta, path)
        blob = _read_folder_member(path, model_file, max_model_bytes(), required=True)
        return meta, model_file, blob
    with _open_regular(path, "the model file") as fh:
        head = fh.read(8)
        _refuse_pickles(head, path)
        fh.seek(0)
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise ModelFileError(
                f"'{path}' is not a readable workbench model (corrupted or not a zip: {_first_line(exc)})"
            ) from None
        with zf:
            infos = _check_zip_entries(zf, path, "model file")
            if "meta.json" not in infos:
                if "schema.json" in infos:  # what skops.io.dump writes
                    raise ModelFileError(
                        f"'{path}' is a bare skops file; load it with skops or re-save it with workbench"
                    )
                raise ModelFileError(f"'{path}' is not a workbench model: it has no meta.json")
            meta = parse_meta(_read_zip_member(zf, infos["meta.json"], MAX_META_BYTES, path), path)
            model_file = _model_file(meta, path)
            if model_file not in infos:
                raise ModelFileError(f"'{path}' is incomplete: it has no {model_file}")
            blob = _read_zip_member(zf, infos[model_file], max_model_bytes(), path)
    return meta, model_file, blob


def parse_meta(raw: bytes, path: Path) -> dict:
    """The meta.json object, parsed only when small and shallow; checks the format tag."""
    from workbench.modeling.artifact import FORMAT

    meta = parse_json(raw, path, "meta.json", MAX_META_BYTES, MAX_JSON_DEPTH)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"'{path}' is not a workbench model (meta.json has no '{FORMAT}' format tag)")
    return meta


def parse_json(raw: bytes, path: Path, what: str, limit: int, max_depth: int | None) -> Any:
    if len(raw) > limit:
        raise ModelFileError(f"'{path}' is refused: its {what} is larger than {_mib(limit)}")
    if max_depth is not None and json_depth(raw) > max_depth:
        raise ModelFileError(f"'{path}' is refused: its {what} is nested more than {max_depth} levels deep")
    try:
        return json.loads(raw)
    except RecursionError:
        raise ModelFileError(f"'{path}' is refused: its {what} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise ModelFileError(f"'{path}' is corrupted: its {what} is not valid JSON") from None


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without parsing it."""
    import numpy as np

    text = _STRING.sub(b'""', raw)
    arr = np.frombuffer(text, dtype=np.uint8)
    steps = np.zeros(arr.shape, dtype=np.int32)
    steps[(arr == 0x5B) | (arr == 0x7B)] = 1
    steps[(arr == 0x5D) | (arr == 0x7D)] = -1
    return int(np.cumsum(steps).max(initial=0))


def is_artifact(path: Path) -> bool:
    """True when `path` is a workbench artifact and nothing else: what ``save_model`` may replace.

    A zip file whose members are exactly ``meta.json`` and one ``model.*`` file,
    or a folder holding exactly those as regular files; meta.json with the
    format tag in both cases. Links are never artifacts.
    """
    try:
        if path.is_symlink():
            return False
        if path.is_dir():
            entries = list(os.scandir(path))
            names = {e.name for e in entries}
            if any(not e.is_file(follow_symlinks=False) for e in entries):
                return False
            if len(names) != 2 or "meta.json" not in names or not names & set(MODEL_FILES):
                return False
            meta = parse_meta(_read_folder_member(path, "meta.json", MAX_META_BYTES, required=True), path)
            return meta.get("model_file", "model.skops") in names
        if not path.is_file():
            return False
        with _open_regular(path, "the file") as fh, zipfile.ZipFile(fh) as zf:
            infos = _check_zip_entries(zf, path, "file")
            if len(infos) != 2 or "meta.json" not in infos or not set(infos) & set(MODEL_FILES):
                return False
            meta = parse_meta(_read_zip_member(zf, infos["meta.json"], MAX_META_BYTES, path), path)
            return meta.get("model_file", "model.skops") in infos
    except (ModelFileError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return False


def _model_file(meta: dict, path: Path) -> str:
    name = meta.get("model_file", "model.skops")
    if name not in MODEL_FILES:
        raise ModelFileError(
            f"'{path}' is not a workbench model: its meta.json names the model file "
            f"{str(name)[:80]!r} (expected model.skops or model.onnx)"
        )
    return name


def _refuse_pickles(head: bytes, path: Path) -> None:
    if head[:2] in _PICKLE_MAGIC or head[:1] == b"\x80" or head.startswith(_COMPRESSED_MAGIC):
        raise ModelFileError(
            f"'{path}' is a pickle or joblib file; workbench never loads pickles "
            "(they can run arbitrary code): re-save the model with workbench.save_model"
        )


class _open_regular:
    """Open a regular file for reading without following a swapped-in FIFO or device."""

    def __init__(self, path: Path, what: str):
        self.path, self.what = path, what
        self.fh: Any = None

    def __enter__(self):
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        target = self.path.resolve() if self.path.is_symlink() else self.path
        try:
            fd = os.open(target, flags)
        except OSError as exc:
            raise ModelFileError(f"{self.what} '{self.path}' cannot be read ({exc.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise ModelFileError(f"'{self.path}' is not a regular file, so it is not a workbench model")
        limit = max_model_bytes() + MAX_META_BYTES + (1 << 20)
        if st.st_size > limit:
            os.close(fd)
            raise ModelFileError(
                f"'{self.path}' is larger than the {_mib(limit)} a model file may take "
                "(set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        self.fh = os.fdopen(fd, "rb")
        return self.fh

    def __exit__(self, *exc):
        self.fh.close()


def _read_folder_member(folder: Path, name: str, limit: int, *, required: bool) -> bytes | None:
    p = folder / name
    if not os.path.lexists(p):
        if required:
            raise ModelFileError(f"'{folder}' is incomplete: it has no {name}")
        return None
    if p.is_symlink():
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):
            raise ModelFileError(f"'{folder}' is refused: its {name} is a broken link") from None
        if not target.is_relative_to(folder.resolve()):
            raise ModelFileError(
                f"'{folder}' is refused: its {name} is a link to a file outside the model folder"
            )
    with _open_regular(p, f"the {name} of") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        what = "model file" if name in MODEL_FILES else name
        raise ModelFileError(
            f"'{folder}' is refused: its {what} is larger than {_mib(limit)}"
            + (" (set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)" if what != name else "")
        )
    return data


def _check_packing(info: zipfile.ZipInfo, path: Path, what: str) -> None:
    """Refuse a zip member packed in a way workbench never writes: an unknown compression, or encrypted."""
    if info.compress_type not in _ZIP_METHODS:
        raise ModelFileError(
            f"'{path}' is refused: its {what} uses a compression method workbench does not write"
        )
    if info.flag_bits & 0x1:
        raise ModelFileError(f"'{path}' is refused: its {what} is encrypted")


def _check_zip_entries(zf: zipfile.ZipFile, path: Path, what: str) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"'{path}' is refused: its {what} has {len(infos):,} members")
    out: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if not safe_member_name(name):
            raise ModelFileError(
                f"'{path}' is refused: its {what} has a member with an unsafe name "
                f"({name[:80]!r}: absolute, or climbing out with '..')"
            )
        if name in out:
            raise ModelFileError(f"'{path}' is refused: its {what} holds '{name[:80]}' twice")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ModelFileError(f"'{path}' is refused: its {what} holds a link ('{name[:80]}')")
        out[name] = info
    return out


def safe_member_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in PurePosixPath(name).parts


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: Path) -> bytes:
    """A member's bytes, at most `limit` of them: declared sizes checked first, then counted while reading."""
    name = info.filename
    what = "model file" if name in MODEL_FILES else name
    hint = " (set WORKBENCH_MAX_MODEL_BYTES to allow bigger models)" if name in MODEL_FILES else ""
    if info.file_size > limit:
        raise ModelFileError(
            f"'{path}' is refused: its {what} would unpack to {_mib(info.file_size)}, more "
            f"than the {_mib(limit)} allowed{hint}"
        )
    _check_packing(info, path, what)
    buf = io.BytesIO()
    try:
        with zf.open(info) as member:
            while chunk := member.read(_CHUNK):
                buf.write(chunk)
                if buf.tell() > min(limit, info.file_size):
                    raise ModelFileError(
                        f"'{path}' is refused: its {what} unpacks to more than its declared size"
                    )
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise ModelFileError(
            f"'{path}' is corrupted: its {what} cannot be unpacked ({_first_line(exc)})"
        ) from None
    return buf.getvalue()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
