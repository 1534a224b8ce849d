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
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if target.exists() and not force:
        raise OutputError(f"{path}: already exists; use --force to replace it")
    if not target.parent.is_dir():
        raise OutputError(f"{path}: the folder {str(target.parent)!r} does not exist")


@contextlib.contextmanager
def open_output(path: str) -> Iterator[TextIO]:
    """Yield a text stream for ``path`` (``-`` is stdout), replaced atomically on success."""
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise OutputError(f"{path}: cannot write here: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        raise OutputError(f"{path}: could not be written: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
