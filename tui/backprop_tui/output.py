"""Files in and out: reads that stop at a size, and writes that never leave a file half
written or lost.

A read takes at most its limit (and one byte more, to tell): a file that claims to be a
network or a session but is endless (/dev/zero) or huge is refused, not swallowed. A write
goes to a temporary file beside the target, which replaces the target in one step once
complete: an interruption or a full disk leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pathlib import Path


class OutputError(Exception):
    """A path that cannot be written; str() is one line saying why."""


class TooBig(Exception):
    """A file beyond its read limit."""


def printable(text: str, keep: str = "") -> str:
    """``text`` with its control characters escaped (``\x1b``; those in ``keep`` stay): what
    comes from a file or a name must not reach a terminal as a command."""
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


def clipped(text: str, limit: int = 40) -> str:
    """``text`` as a message shows it: control characters escaped, cut with … when long
    (a pasted page or a 50 MB line in a file must not become the message)."""
    return printable(text[:limit] + "…" if len(text) > limit else text)


def path_shown(path: str | Path, limit: int = 120) -> str:
    """A path as a message names it: control characters escaped, and when long its middle
    cut with … (its start says where, its end which file)."""
    text = str(path)
    if len(text) > limit:
        text = text[: limit // 2 - 1] + "…" + text[-(limit // 2):]
    return printable(text)


def quoted(text: str, limit: int = 40) -> str:
    """``text`` clipped and in quotes: a value an error message names."""
    return repr(text[:limit] + "…" if len(text) > limit else text)


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The file's bytes, read once (it may be a pipe or a device): TooBig beyond ``limit``
    bytes; OSError or ValueError (a NUL in the path) as reading raises them."""
    with open(path, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooBig(f"{path}: more than {limit:,} bytes")
    return data


def _stdout(path: str) -> bool:
    """Whether ``path`` is standard output: ``-``, or a name of the file it already is
    (/dev/stdout, /proc/self/fd/1): written as the stream it is, never replaced — a file
    that standard output is redirected to keeps what was there (``>> log``)."""
    if path == "-":
        return True
    try:
        return sys.stdout is not None and os.path.samestat(os.stat(path),
                                                            os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def check_target(path: str, force: bool) -> None:
    """Refuse before any work is done: an existing file (unless forced), a missing folder, a
    symbolic link that leads nowhere."""
    if _stdout(path):
        return
    if not path:
        raise OutputError("the output path is empty; give a file name, or - for standard output")
    shown = path_shown(path)
    try:
        if os.path.islink(path) and not os.path.exists(path):
            raise OutputError(f"{shown}: is a symbolic link that leads nowhere (or in a loop); "
                              "give a file name")
        target = _real(path)
        if target.is_dir():
            raise OutputError(f"{shown}: is a folder; give a file name")
        if target.exists() and not target.is_file():
            raise OutputError(f"{shown}: is not a regular file; give a file name")
        if target.exists() and not force:
            raise OutputError(f"{shown}: already exists; use --force to replace it")
        if not target.parent.is_dir():
            raise OutputError(f"{shown}: the folder {path_shown(target.parent)} does not exist")
    except (OSError, ValueError) as error:
        raise OutputError(f"{shown}: not a usable path: {reason(error)}") from None


def _real(path: str) -> Path:
    """The file a path names, through symbolic links, so replacing it keeps the link."""
    from pathlib import Path  # here: only writing a file needs it (`train` starts sooner)

    return Path(os.path.realpath(path))


def reason(error: BaseException) -> str:
    """Why an operation failed, in the system's words ('No such file or directory')."""
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


@contextlib.contextmanager
def open_output(path: str) -> Iterator[TextIO]:
    """Yield a text stream for ``path`` (``-`` or a name of standard output: the stream
    itself), a new file replacing the old one atomically on success, with its mode and
    owner."""
    if _stdout(path):
        if sys.stdout is None:
            raise OutputError("standard output is closed")
        try:
            yield sys.stdout
            sys.stdout.flush()
        except OSError as error:
            raise OutputError(f"standard output could not be written: {reason(error)}") from None
        return
    target = _real(path)
    try:
        handle, temporary = _create(str(target.parent), f".{target.name}.")
    except (OSError, ValueError) as error:
        raise OutputError(f"{path_shown(path)}: cannot write here: {reason(error)}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _keep_mode_and_owner(temporary, target)
        os.replace(temporary, target)
    except OSError as error:
        raise OutputError(f"{path_shown(path)}: could not be written: {reason(error)}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        _WRITING.discard(temporary)


_WRITING: set[str] = set()  # the temporary files being written, by name


@contextlib.contextmanager
def scratch() -> Iterator[TextIO]:
    """A temporary file to write now and read back later (a worksheet's answer key, kept
    out of memory until the sheet is done), in the system's temporary folder. Its name is
    removed as soon as it is open (only the open file is needed): nothing is left behind
    even when the process is killed outright, as a closed pipe's SIGPIPE does."""
    import tempfile  # here: only a worksheet needs it

    folder = tempfile.gettempdir()
    try:
        handle, name = _create(folder, ".backprop-tui.", os.O_RDWR)
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write a temporary file in {path_shown(folder)}: "
                          f"{reason(error)}") from None
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name)
    _WRITING.discard(name)
    try:
        with os.fdopen(handle, "w+", encoding="utf-8", newline="\n") as stream:
            yield stream
    except OSError as error:
        raise OutputError(f"the temporary file {path_shown(name)} could not be written: "
                          f"{reason(error)}") from None


def _create(folder: str, prefix: str, access: int = os.O_WRONLY) -> tuple[int, str]:
    """A new file beside the target (``.log.md.3f9c…``), open for writing, and its name,
    which ``_WRITING`` holds from before the file exists until it is gone: a TERM that lands
    between the two cannot leave it behind (see ``remove_temporaries``)."""
    name = os.path.join(folder, prefix + os.urandom(8).hex())  # 64 random bits: no clash
    _WRITING.add(name)
    try:
        return os.open(name, access | os.O_CREAT | os.O_EXCL, 0o600), name
    except OSError:  # not made (a signal's exception leaves the name for the clean-up)
        _WRITING.discard(name)
        raise


def remove_temporaries() -> None:
    """Remove every temporary file still being written: the command line calls this on its
    way out after TERM, HUP or ctrl+c, which may land between a file's creation and the
    code that removes it."""
    for name in list(_WRITING):
        with contextlib.suppress(OSError):
            os.unlink(name)
    _WRITING.clear()


def _keep_mode_and_owner(temporary: str, target: Path) -> None:
    """Give the new file the old one's mode and owner (a read-only or private file stays so),
    or a new file's usual mode."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        os.chmod(temporary, 0o644 & ~_umask())
        return
    os.chmod(temporary, stat.S_IMODE(old.st_mode))
    if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(PermissionError):  # only the owner's own group, or root
            os.chown(temporary, old.st_uid, old.st_gid)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
