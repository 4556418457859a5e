"""Writing output files safely (DECISIONLOG D50).

Every file the CLI writes (`export invoices`, `export stripe`, `statement`, `alerts deliver` to a
folder) goes through `atomic_output`: the content is written to a temporary file in the target's
folder, flushed to disk, and only then renamed over the target (`os.replace`, atomic on POSIX).
A write that fails or is killed midway leaves the previous file (or none), never a truncated one.
A target that is a symbolic link is refused (we never write through a link onto another file), and
paths that cannot be written give one line naming the path and the reason.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BillingError


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def check_target(path: Path, what: str = "--out") -> Path:
    """Refuse a symlink, a missing folder or something that is not a regular file; returns `path`."""
    if path.is_symlink():
        raise BillingError(f"{what} {path}: is a symbolic link; refusing to write through it (give the real path)")
    if not path.parent.is_dir():
        raise BillingError(f"{what} {path}: folder {path.parent} does not exist or is not a folder")
    if path.exists() and not path.is_file():
        raise BillingError(f"{what} {path}: exists and is not a regular file")
    return path


def _new_file_mode(path: Path) -> int:
    """The mode the file would get from a plain open(): the old file's, else 0666 less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself is still atomic
    finally:
        os.close(fd)


@contextmanager
def atomic_output(path: Path, what: str = "--out") -> Iterator[Path]:
    """Yield a temporary path next to `path`; once the block succeeds it is synced and renamed over
    `path`. On any failure the temporary file is removed and `path` is left as it was."""
    path = check_target(Path(path), what)
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as e:
        raise BillingError(f"{what} {path}: cannot write there: {_reason(e)}") from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _new_file_mode(path))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # replaces a link put there meanwhile, never writes through it
        _fsync_folder(path.parent)
    except OSError as e:
        raise BillingError(f"{what} {path}: cannot write: {_reason(e)}; the previous file is unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes, what: str = "--out") -> Path:
    with atomic_output(path, what) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: Path, text: str, what: str = "--out") -> Path:
    return write_bytes(path, text.encode("utf-8"), what)
