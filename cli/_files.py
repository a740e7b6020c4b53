"""Files the CLI writes for the owner (``report --output``, ``rfm --export``): all or nothing.

* The target is checked first, and a mistake is a clear one-line error with exit code 2:
  a folder that does not exist, a target that is a folder, a target that is a symbolic link
  (Bazgasht never writes through a link: a link planted where the report goes could make it
  overwrite any file the owner can write).
* The bytes go to a temporary file beside the target (created exclusively, never through a
  link), are flushed to disk, then renamed over the target. A full disk or any other write
  error leaves the target as it was and no half-written file; the message says so.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from connector import BazgashtError, ConfigError

#: Errors that are the owner's to fix in the path they gave (exit 2), not a failed job.
_PATH_MISTAKES = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR}
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class WriteFailed(BazgashtError):
    """The file could not be written (disk full, I/O error); the target is unchanged."""

    exit_code = 1


def check_target(path: Path) -> Path:
    """``path`` if a file may be written there; a ``ConfigError`` that says what to fix."""
    if path.is_symlink():
        raise ConfigError(
            f"{path} is a symbolic link; Bazgasht does not write through links. Remove the "
            "link, or give the path of a regular file."
        )
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name, e.g. {path / 'report.html'}")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(
            f"cannot write {path}: the folder {folder} {what}. Create it first "
            f"(mkdir -p {folder}) or choose another path."
        )
    return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` all at once. ``private``: mode 0600 (the file holds
    customers' personal data); otherwise the usual mode the umask gives."""
    check_target(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600 if private else 0o666)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # rename never follows a link at the target
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or type(exc).__name__
        if exc.errno in _DISK_FULL:
            raise WriteFailed(
                f"the disk is full: {path} was not written (nothing was changed). Free some "
                "space and run the command again."
            ) from exc
        if exc.errno in _PATH_MISTAKES:
            raise ConfigError(f"cannot write {path}: {reason}.") from exc
        raise WriteFailed(f"could not write {path}: {reason}; nothing was changed.") from exc
    return path


__all__ = ["WriteFailed", "check_target", "write_atomic"]
