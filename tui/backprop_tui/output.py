"""Writing a file so that nothing is ever half-written or lost.

The text goes to a temporary file beside the target, which replaces the target in one step
once complete: an interruption or a full disk leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


class OutputError(Exception):
    """A path that cannot be written; str() is one line saying why."""


def check_target(path: str, force: bool) -> None:
    """Refuse before any work is done: an existing file (unless forced), a missing folder."""
    if path == "-":
        return
    if not path:
        raise OutputError("the output path is empty; give a file name, or - for standard output")
    try:
        target = _real(path)
        if target.is_dir():
            raise OutputError(f"{path}: is a folder; give a file name")
        if target.exists() and not target.is_file():
            raise OutputError(f"{path}: is not a regular file; give a file name")
        if target.exists() and not force:
            raise OutputError(f"{path}: already exists; use --force to replace it")
        if not target.parent.is_dir():
            raise OutputError(f"{path}: the folder {str(target.parent)!r} does not exist")
    except (OSError, ValueError) as error:
        raise OutputError(f"{path}: not a usable path: {_reason(error)}") from None


def _real(path: str) -> Path:
    """The file a path names, through symbolic links, so replacing it keeps the link."""
    return Path(os.path.realpath(path))


def _reason(error: Exception) -> str:
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


@contextlib.contextmanager
def open_output(path: str) -> Iterator[TextIO]:
    """Yield a text stream for ``path`` (``-`` is stdout), replaced atomically on success."""
    if path == "-":
        if sys.stdout is None:
            raise OutputError("standard output is closed")
        try:
            yield sys.stdout
            sys.stdout.flush()
        except OSError as error:
            raise OutputError(f"standard output could not be written: {_reason(error)}") from None
        return
    target = _real(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except (OSError, ValueError) as error:
        raise OutputError(f"{path}: cannot write here: {_reason(error)}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        raise OutputError(f"{path}: could not be written: {_reason(error)}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
