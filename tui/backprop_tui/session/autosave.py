"""The app's session kept in the user's state folder, so a closed terminal loses nothing.

The save file is the session document without its log (the steps and epochs follow from
the rest), written atomically through ``output.open_output``: an interruption or a full
disk leaves the file that was there before. Saves happen at most about once a second; a
change made sooner waits for ``flush`` (the app calls it from a timer and on quit).

A file left by an earlier session is never overwritten silently: it is resumed, or moved
aside to ``last-session.previous.json`` (``last-session.damaged.json`` when it cannot be
read) before the first save. The folder keeps the last SESSIONS sessions, the current one
included: last-session.json, then .previous.json, .previous-2.json … the oldest let go.
The resume prompt lists them all (``find_last``). No Textual here: the command line uses
this module too.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from backprop_tui.output import OutputError, open_output

# Sessions and their files import numpy; they are imported where used, so that the app
# draws its first frame before (a new session is built after it, and saved later still).
if TYPE_CHECKING:
    from backprop_tui.session.session import Session

FOLDER = "backprop-tui"
NAME = "last-session.json"
INTERVAL = 1.0  # seconds between two saves, at least


def state_path(folder: Path | None = None) -> Path:
    """The user's state folder's backprop-tui/last-session.json, through platformdirs: on
    Linux $XDG_STATE_HOME/backprop-tui/…, or ~/.local/state/… without it; or ``folder``'s
    last-session.json (an app served to a browser tab: each its own folder)."""
    if folder is not None:
        return folder / NAME
    import platformdirs

    return platformdirs.user_state_path(FOLDER) / NAME


SESSIONS = 5  # sessions the state folder keeps: the current one and 4 earlier
KEPT = 10  # damaged files kept: .damaged.json, .damaged-2.json … -10
INSTANCES = 9  # apps that can run at once on one state folder, each with its own file


@dataclass(frozen=True)
class Claim:
    """The session file this app saves to, locked while it runs (the system lets go of the
    lock when the process ends, however it ends), and the file another app held first."""

    path: Path
    busy: Path | None  # last-session.json, when another running app has it
    handle: IO[str]  # the open lock file: closing it lets go


def session_files(path: Path) -> list[Path]:
    """``path`` (last-session.json) and the files of the apps that ran beside another:
    last-session-2.json … -9.json."""
    stem = path.name.removesuffix(".json")
    return [path] + [path.with_name(f"{stem}-{n}.json") for n in range(2, INSTANCES + 1)]


def others_saved(path: Path, own: Path) -> tuple[Path, ...]:
    """The session files beside ``own`` that exist: the resume prompt lists them."""
    try:
        return tuple(other for other in session_files(path) if other != own and other.exists())
    except OSError:
        return ()


class AllTaken(Exception):
    """Every session file of the state folder is locked by another running app."""


def claim(path: Path) -> Claim | None:
    """Lock ``path`` (last-session.json) for this app, or, if another running app has it,
    the first free of last-session-2.json … -9.json. None when the state folder cannot be
    used (saving will say why); AllTaken when every file is another app's (this one must
    save nothing)."""
    import fcntl

    for number, candidate in enumerate(session_files(path), start=1):
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = open(candidate.with_name(candidate.name + ".lock"), "a")  # noqa: SIM115
        except OSError:
            return None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another app has it
            handle.close()
            continue
        return Claim(candidate, None if number == 1 else path, handle)
    raise AllTaken(f"{INSTANCES} other backprop-tui apps are running on {path.parent}")


def previous_path(path: Path) -> Path:
    """last-session.previous.json for last-session.json (-2.previous.json for -2.json)."""
    return path.with_name(path.name.removesuffix(".json") + ".previous.json")


def damaged_path(path: Path) -> Path:
    """last-session.damaged.json for last-session.json: a file kept, never trusted."""
    return path.with_name(path.name.removesuffix(".json") + ".damaged.json")


def kept_paths(newest: Path, kept: int) -> list[Path]:
    """``newest`` (….previous.json) and the places after it: ….previous-2.json … -kept."""
    stem = newest.name.removesuffix(".json")
    return [newest, *(newest.with_name(f"{stem}-{n}.json") for n in range(2, kept + 1))]


def earlier_paths(path: Path) -> list[Path]:
    """The files of the earlier sessions kept beside ``path``, newest first."""
    return kept_paths(previous_path(path), SESSIONS - 1)


def keep_aside(path: Path, newest: Path, kept: int = KEPT) -> Path:
    """Move ``path`` to ``newest`` (``….previous.json``), first shifting the files kept
    there before one place on (``….previous-2.json`` … up to ``kept``): a backup is never
    replaced by a newer one, only the oldest is let go. OSError if a move fails."""
    older = kept_paths(newest, kept)
    for source, target in reversed(list(zip(older, older[1:], strict=False))):
        if source.exists():
            os.replace(source, target)
    os.replace(path, newest)
    return newest


def close_gap(path: Path, gone: Path) -> None:
    """Remove ``gone``, one of the earlier sessions beside ``path``, moving the older ones
    up a place (from the place past the last kept, too: see ``Autosaver._move_old``).
    OSError if a move fails."""
    older = kept_paths(previous_path(path), SESSIONS)
    os.remove(gone)
    for source, target in zip(older[older.index(gone) + 1:], older[older.index(gone):],
                              strict=False):
        if source.exists():
            os.replace(source, target)


def save(session: Session, path: Path) -> None:
    """Write the session (without its log) to ``path`` atomically, creating the folder.
    Raises OutputError with a one-line reason."""
    from backprop_tui.session.persist import dump_session

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(f"{path.parent}: cannot create the folder: {reason}") from None
    from backprop_tui.session.persist import MAX_BYTES

    text = "".join(dump_session(session, [], []))  # no log: small
    if len(text.encode("utf-8")) > MAX_BYTES:  # what --resume would refuse is not written
        raise OutputError(f"the session has grown past {MAX_BYTES:,} bytes, more than a "
                          "session file may hold; export it with x to keep its log")
    with open_output(str(path)) as stream:
        stream.write(text)


def read(path: Path) -> Session:
    """The session saved at ``path``; SessionFileError (one line) if it cannot be resumed,
    OSError if it cannot be read."""
    from backprop_tui.session.persist import read_session

    return read_session(path)


@dataclass(frozen=True)
class Saved:
    """A session file of the state folder, as the resume prompt lists it."""

    path: Path
    name: str  # the network's: its preset or file name
    epoch: int
    index: int  # 0: the start of the epoch
    saved: datetime | None  # when it was written (local time)

    @property
    def where(self) -> str:
        """'epoch k, step s' (or 'the start of epoch k')."""
        if self.index == 0:
            return f"the start of epoch {self.epoch:,}"
        return f"epoch {self.epoch:,}, step {self.index}"

    @property
    def when(self) -> str:
        """'12-01 16:40' (month, day, time), with the year before it if not this one's."""
        if self.saved is None:
            return ""
        this_year = self.saved.year == datetime.now().year
        return self.saved.strftime("%m-%d %H:%M" if this_year else "%Y-%m-%d %H:%M")


def saved_as(path: Path, document: dict[str, Any]) -> Saved | None:
    """What the prompt shows of a session document read from ``path``; None if the few
    fields it shows are not there (the file is then not listed: resuming it would fail)."""
    source, cursor = document.get("source"), document.get("cursor")
    name = source.get("name") if isinstance(source, dict) else None
    if not isinstance(cursor, dict):
        return None
    epoch, index = cursor.get("epoch"), cursor.get("index")
    if not (isinstance(epoch, int) and isinstance(index, int)):
        return None
    try:
        saved = datetime.fromisoformat(str(document.get("exported"))).astimezone()
    except ValueError:
        saved = None
    shown = Path(name).name if isinstance(name, str) and name.isprintable() else "a network"
    return Saved(path, shown[:60], epoch, index, saved)


SHOWN = frozenset({"exported", "source", "cursor"})  # what the prompt shows of a file


def summary(path: Path) -> Saved | None:
    """The prompt's line of the session file at ``path``, without resuming it; None if it
    cannot be read as one."""
    from backprop_tui.session.persist import SessionFileError, read_document

    try:
        document = read_document(path, SHOWN)
    except (OSError, ValueError, SessionFileError):
        return None
    return saved_as(path, document) if isinstance(document, dict) else None


@dataclass(frozen=True)
class LastSession:
    """What a start without --resume found in the state folder."""

    path: Path
    session: Session | None  # resumable
    problem: str | None = None  # why not: one line
    kept: Path | None = None  # where the unreadable file now is
    others: tuple[Path, ...] = ()  # other apps' session files in the state folder
    # The last session's line and the earlier sessions kept beside it, newest first.
    listed: tuple[Saved, ...] = field(default=())
    # What a session read from an earlier file goes through, as the last one went (the
    # command line's --quiz and --tolerance).
    prepare: Callable[[Session], Session] = field(default=lambda session: session)


def find_last(path: Path | None = None) -> LastSession | None:
    """The last session and the earlier ones kept, if any file is there. A last session
    that cannot be resumed is moved to last-session.damaged.json (kept, never trusted) and
    the problem is reported — also when reading it fails in a way no check foresaw (said by
    the error's type, never raised). The earlier ones are read when picked."""
    path = state_path() if path is None else path
    try:
        # (only files that are there: reading one imports numpy, the first frame waits)
        there = [earlier for earlier in earlier_paths(path) if earlier.exists()]
        earlier = tuple(found for found in map(summary, there) if found)
        if not path.exists():
            return LastSession(path, None, listed=earlier) if earlier else None
    except OSError:
        return None  # the state folder cannot be looked into: saving will say why
    from backprop_tui.session.persist import SessionFileError

    try:
        session = read(path)
    except SessionFileError as error:
        problem = str(error)
    except OSError as error:
        problem = f"{path}: cannot read the file: {error.strerror or error}"
    except Exception as error:  # a file no check foresaw: kept aside, never trusted
        problem = f"{path}: cannot be resumed: {type(error).__name__}"
    else:
        last = summary(path)
        return LastSession(path, session, listed=(last, *earlier) if last else earlier)
    try:
        kept = keep_aside(path, damaged_path(path))
    except OSError:  # still in place: the first save moves it to .previous.json
        return LastSession(path, None, problem, None, listed=earlier)
    return LastSession(path, None, problem, kept, listed=earlier)


class Autosaver:
    """Saves a session to ``path`` after changes, at most once per ``interval`` seconds.

    ``changed`` saves at once when the last save is old enough, and otherwise returns how
    long to wait before calling ``flush``. With ``keep_old``, a file already at ``path``
    is moved to last-session.previous.json before the first save. Saving never raises:
    ``error`` holds the last failure's one-line reason (None once a save succeeds).
    """

    def __init__(self, path: Path | None = None, *, keep_old: bool = False,
                 interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = state_path() if path is None else path
        self.keep_old = keep_old
        self.interval = interval
        self.clock = clock
        self.error: str | None = None
        self.kept: Path | None = None  # where the old file went, once moved
        # An earlier session's file and the session resumed from it (see ``resumed``).
        self._resumed: tuple[Path, Session] | None = None
        self.saves = 0
        self._last = -math.inf
        self._pending: Session | None = None

    def resumed(self, path: Path, session: Session) -> None:
        """``session`` was resumed from ``path``, an earlier session's file: it is the
        current session now, so once it is saved the file goes (each session kept once)."""
        self._resumed = (path, session)

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def changed(self, session: Session) -> float | None:
        """Note that ``session`` changed: save now, or return the seconds until a save is
        due (call ``flush`` then)."""
        self._pending = session
        wait = self._last + self.interval - self.clock()
        if wait > 0:
            return wait
        self.flush()
        return None

    def flush(self) -> bool:
        """Save the pending change, if any; whether a save succeeded."""
        session, self._pending = self._pending, None
        if session is None:
            return False
        self._last = self.clock()
        try:
            self._move_old()
            save(session, self.path)
            self._take_resumed(session)
        except OutputError as error:
            self.error = str(error)
            return False
        except OSError as error:
            self.error = f"{self.path}: {error.strerror or error}"
            return False
        self.error = None
        self.saves += 1
        return True

    def _move_old(self) -> None:
        if not self.keep_old:
            return
        if self.path.exists():
            target = previous_path(self.path)
            try:
                if self._resumed is None:
                    keep_aside(self.path, target, SESSIONS - 1)
                else:  # a place more, until the file resumed from is taken out
                    keep_aside(self.path, target, SESSIONS)
                    earlier = kept_paths(target, SESSIONS)
                    gone, resumed = self._resumed
                    self._resumed = (earlier[earlier.index(gone) + 1], resumed)
            except OSError as error:
                raise OutputError(f"{self.path}: cannot keep the earlier session as "
                                  f"{target.name}: {error.strerror or error}") from None
            self.kept = target
        self.keep_old = False

    def _take_resumed(self, saved: Session) -> None:
        """Once the session resumed from an earlier file is saved, that file goes: it lives
        on in the current one. Another session saved first (another network opened before
        any change) leaves it an earlier session; only the place past the kept ones goes."""
        found, self._resumed = self._resumed, None
        if found is None:
            return
        gone, resumed = found
        if resumed is not saved or not gone.exists():
            gone = kept_paths(previous_path(self.path), SESSIONS)[-1]
            if not gone.exists():
                return
        try:
            close_gap(self.path, gone)
        except OSError as error:
            raise OutputError(f"{gone}: cannot take it out of the earlier sessions: "
                              f"{error.strerror or error}") from None
