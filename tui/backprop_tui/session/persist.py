"""The session as a JSON document, and back: the save file, the resume, the JSON log.

A session file may come from anywhere, so nothing in it is trusted: every field is checked
for type and size, the network goes through the network-file checks, and each edit through
the session's own edit checks. Any problem is one line, never a traceback.

Version 2 adds the undo history (``history``: the last HISTORY states each way, written as
short arrays whose edits and fast-forwards are indexes into one list of each) and the start of
every ``spacing(epoch)``-th epoch of the current timeline (``checkpoints``), so that a resume
reaches any epoch up to the cursor at a fixed cost. Of the checkpoints, the first is checked
against the network and the cursor's against the one before it as the file is read (at most
``spacing`` epochs each); any other when a run reaches it (``Timeline.seed``). Version 1 files
are read as before.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from backprop_tui import __version__
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.functions import OPTIMIZERS
from backprop_tui.netfile import NetworkFileError, Source, network_from_document
from backprop_tui.network import Network, OptimizerState
from backprop_tui.numbers import MAX_DIGITS, MIN_DIGITS
from backprop_tui.output import TooBig, quoted
from backprop_tui.session.quiz import VERDICTS, Answer, Quiz
from backprop_tui.session.session import (
    EditError,
    Event,
    Session,
    State,
    as_edit,
    combination_problem,
    merged_runs,
)
from backprop_tui.session.timeline import (
    SAVED,
    Edit,
    apply_edit,
    same_start,
    start_document,
)
from backprop_tui.session.tolerance import DEFAULT_TOLERANCE, check_tolerance
from backprop_tui.steps.build import EpochSteps

SCHEMA = "backprop-tui/session"
VERSION = 2
HISTORY = 1_000  # undo states kept each way (past, future); older ones are dropped on saving
MAX_CHECKPOINTS = 2_500  # saved starts: every SAVED-th epoch up to 10,240,000, then sparser
# A session document, read or saved (the app's save file, --resume, export --resume), its
# log aside: no more than this is parsed and kept. The log (steps, epochs: what a resume does
# not need) is read past one record at a time, each record no bigger than this either, in a
# file of at most MAX_FILE_BYTES (about 40 times a 10,000-epoch export of the tutorial).
MAX_BYTES = 64 * 1024 * 1024
MAX_FILE_BYTES = 16 * 1024**3
LOG = ("steps", "epochs")
CHUNK = 1 << 20
MAX_CHANGES = 100  # the lines of one event
# Epochs a resume may recompute to reach the cursor; a document beyond it needs the
# checkpoint it is saved with (the network at the start of the cursor's epoch).
MAX_RECOMPUTED = 1_000_000
# A checkpoint this near the start is checked against the epochs it stands for (a few
# milliseconds); further on it is trusted, as the point of it is not to run them.
MAX_CHECKED = 2_000
MAX_EPOCH = 100_000_000
MAX_EVENTS = 100_000
MAX_EDITS = 10_000
MAX_STEPPED = 100_000  # epochs a session file may claim were stepped, not fast-forwarded


Record = dict[str, object]  # a step or an epoch record, as JSON writes it


class SessionFileError(Exception):
    """A session file that cannot be resumed; str() is one line saying why."""


def header(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Everything the document holds apart from the log itself (steps and epochs)."""
    source = session.source
    state = session.state
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "exported": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "app_version": __version__,
        "source": None if source is None else {
            "kind": source.kind, "name": source.name, "text": source.text},
        "network": session.base.to_document(),
        "options": {"digits": state.digits},
        "cursor": {"epoch": state.epoch, "index": state.index},
        # The network at the start of the cursor's epoch, under the edits: a resume reaches
        # it at once, however many epochs lie before it.
        "checkpoint": {"epoch": state.epoch, **start_document(session.network)},
        "edits": [{"epoch": e.epoch, "name": e.name, "value": e.value} for e in state.edits],
        "runs": [list(run) for run in state.runs],
        "events": session.events,
        "quiz": session.quiz.document(),
    }


def dump_session(session: Session, steps: Iterable[Record], epochs: Iterable[Record],
                 now: datetime | None = None) -> Iterator[str]:
    """The JSON document in pieces, so a long log streams instead of sitting in memory. The
    checkpoints and the history are written compactly: one line per checkpoint."""
    head = json.dumps(header(session, now), ensure_ascii=False, indent=1)
    every = spacing(session.epoch)
    starts = [{"epoch": epoch, **start_document(network)}
              for epoch, network in saved_starts(session, every)]
    yield head[:-2] + f',\n "checkpoints": {{"every": {every}, "starts": ['
    yield from _items(starts, compact=True)
    yield "]},\n \"history\": " + _compact(history(session))
    yield ',\n "steps": ['
    yield from _items(steps)
    yield '],\n "epochs": ['
    yield from _items(epochs)
    yield "]\n}\n"


def _items(records: Iterable[Record], compact: bool = False) -> Iterator[str]:
    for i, record in enumerate(records):
        yield ("\n  " if i == 0 else ",\n  ") + (
            _compact(record) if compact else json.dumps(record, ensure_ascii=False))


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def spacing(epoch: int) -> int:
    """The epochs between two saved checkpoints of a session at ``epoch``: SAVED, doubled
    as often as it takes to keep at most MAX_CHECKPOINTS."""
    every = SAVED
    while epoch // every > MAX_CHECKPOINTS:
        every *= 2
    return every


def saved_starts(session: Session, every: int) -> list[tuple[int, Network]]:
    """The known starts of the current timeline at every ``every``-th epoch up to the
    cursor's, back from the last as far as they go without a gap: all of them, unless the
    session was resumed from a version 1 file (which saved the cursor's alone)."""
    found = []
    for epoch in range(session.epoch - session.epoch % every, 0, -every):
        network = session.timeline.known_start(epoch)
        if network is None:
            break
        found.append((epoch, network))
    return found[::-1]


def history(session: Session) -> dict[str, Any]:
    """The undo history, its last HISTORY states each way: each state is [epoch, index,
    digits, its edits, its fast-forwards], those two as indexes into "edits" and "runs"."""
    edits: dict[Edit, int] = {}
    runs: dict[tuple[int, int], int] = {}

    def short(state: State) -> list[Any]:
        return [state.epoch, state.index, state.digits,
                [edits.setdefault(edit, len(edits)) for edit in state.edits],
                [runs.setdefault(run, len(runs)) for run in state.runs]]

    past = [short(state) for state in session.past[-HISTORY:]]
    future = [short(state) for state in session.future[-HISTORY:]]
    return {"edits": [[e.epoch, e.name, e.value] for e in edits],
            "runs": [list(run) for run in runs], "past": past, "future": future}


def read_session(path: str | Path) -> Session:
    """The session saved at ``path``, read in pieces (its log is never held: see
    MAX_BYTES); SessionFileError (one line) if it cannot be resumed, OSError or ValueError
    (a NUL in the path) if it cannot be read."""
    with open(path, "rb") as stream:
        return _load(_pieces(stream), str(path))


def load_session(data: str | bytes, name: str) -> Session:
    """Rebuild a session from a document written by ``dump_session``."""
    return _load(iter([data]), name)


def _pieces(stream: Any) -> Iterator[bytes]:
    """The file's bytes, CHUNK at a time, up to MAX_FILE_BYTES (it may be a pipe or a
    device that never ends)."""
    total = 0
    while piece := stream.read(CHUNK):
        total += len(piece)
        if total > MAX_FILE_BYTES:
            raise TooBig(f"more than {MAX_FILE_BYTES:,} bytes")
        yield piece


def read_document(path: str | Path, wanted: frozenset[str]) -> Any:
    """The document saved at ``path`` as far as the keys ``wanted``, none of it checked:
    enough for a glance at it (the resume prompt's list). SessionFileError if it is no JSON
    document, OSError if it cannot be read."""
    with open(path, "rb") as stream:
        return _document(_pieces(stream), str(path), wanted)


def _load(pieces: Iterator[str | bytes], name: str) -> Session:
    document = _document(pieces, name)
    try:
        return _session(document)
    except _Bad as problem:
        raise SessionFileError(f"{name}: {problem}") from None


def _document(pieces: Iterator[str | bytes], name: str,
              wanted: frozenset[str] | None = None) -> Any:
    try:
        document = _Reader(pieces).document(wanted)
        # A lone surrogate (\ud800) parses but could never be written back out.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except TooBig as error:
        raise SessionFileError(f"{name}: {error}, too big for a session file") from None
    except _JsonLines:
        raise SessionFileError(f"{name}: a JSON-lines export is a log, not a resumable "
                               "session (`backprop-tui export --format json` writes one)"
                               ) from None
    except (UnicodeError, ValueError, RecursionError) as error:
        raise SessionFileError(f"{name}: not a session file (not valid JSON: {error})") from None
    return document


class _JsonLines(ValueError):
    """The file starts with a JSON-lines log's header record."""


class _Bad(Exception):
    pass


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_NUMBER_GOES_ON = re.compile(r"[-+.eE0-9]*")  # the rest of a number split between pieces


class _Reader:
    """A JSON document read from its pieces as json.loads would read it, except that the
    top-level object's log (LOG: a list of records) is read one record at a time and
    dropped: a resume needs none of it, and a long log would not fit in memory."""

    def __init__(self, pieces: Iterator[str | bytes]) -> None:
        self.pieces = pieces
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()  # a BOM is dropped
        self.text = ""
        self.at = 0
        self.before = 0  # characters read past and dropped: where self.text starts in the file
        self.kept = 0  # characters parsed and kept, all but the log
        self.more()
        self.text = self.text.removeprefix("\ufeff")  # a text's BOM

    def more(self) -> bool:
        """Append the next piece to what is still unread; False at the end."""
        piece = next(self.pieces, None)
        self.before += self.at
        if piece is None:
            self.text = self.text[self.at:] + self.decoder.decode(b"", final=True)
            self.at = 0
            return False
        text = self.decoder.decode(piece) if isinstance(piece, bytes) else piece
        self.text, self.at = self.text[self.at:] + text, 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            self.at = _SPACE.match(self.text, self.at).end()  # type: ignore[union-attr]
            if self.at < len(self.text) or not self.more():
                return self.text[self.at:self.at + 1]

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at {self.text[self.at:self.at + 20]!r}")
        self.at += 1

    def value(self, keep: bool = True) -> Any:
        """The next value, read as far as it needs (no bigger than MAX_BYTES); counted
        against MAX_BYTES in all unless ``keep`` is False."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.at)
            except json.JSONDecodeError as error:
                if len(self.text) - self.at > MAX_BYTES:
                    raise TooBig(f"more than {MAX_BYTES:,} bytes in one value") from None
                where = self.before + error.pos  # in the file, not in what is unread
                if not self.more():
                    message = error.msg.removesuffix(" at")  # "… starting at"
                    raise ValueError(f"{message} at character {where:,}") from None
                continue
            if (isinstance(value, int | float) and not isinstance(value, bool)
                    and _NUMBER_GOES_ON.fullmatch(self.text, end) and self.more()):
                continue  # a number may go on in the next piece (12|34, 1.|5)
            if keep:
                self.kept += end - self.at
                if self.kept > MAX_BYTES:
                    raise TooBig(f"more than {MAX_BYTES:,} bytes besides its log")
            self.at = end
            return value

    def document(self, wanted: frozenset[str] | None = None) -> Any:
        """The whole document, its log's lists read and left empty; with ``wanted``, only
        as far as those keys (the rest of the file is not read)."""
        if not self.peek():
            raise ValueError("the file is empty")
        if self.peek() != "{":
            return self.end(self.value())
        self.take("{")
        document: dict[str, Any] = {}
        while self.peek() != "}":
            if wanted is not None and wanted <= document.keys():
                return document
            if document:
                self.take(",")
            key = self.value()
            if not isinstance(key, str):
                raise ValueError(f"an object's key is not text: {key!r}")
            self.take(":")
            document[key] = self.log() if key in LOG else self.value()
        self.take("}")
        if document.get("type") == "header":  # export --format jsonl's first record
            raise _JsonLines
        return self.end(document)

    def log(self) -> list[Any]:
        """Read past a list of records, one at a time; none is kept."""
        if self.peek() != "[":
            self.value(keep=False)
            return []
        self.take("[")
        if self.peek() != "]":
            self.value(keep=False)
            while self.peek() == ",":
                self.take(",")
                self.value(keep=False)
        self.take("]")
        return []

    def end(self, document: Any) -> Any:
        """``document``, once nothing but white space follows it."""
        if self.peek():
            raise ValueError(f"extra data after the document: {self.text[self.at:self.at + 20]!r}")
        return document


def _session(document: Any) -> Session:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise _Bad(f"not a session file (its \"schema\" is not {SCHEMA!r})")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Bad("its \"version\" is not a positive whole number")
    if version > VERSION:
        raise _Bad(f"written by a newer backprop-tui (session version {version}; this one "
                   f"reads up to {VERSION}): upgrade to resume it")
    network_document = _field(document, "network", dict)
    try:
        network = network_from_document(network_document, "its \"network\"")
    except NetworkFileError as error:
        raise _Bad(str(error)) from None
    source = _source(document.get("source"))
    digits = _whole(_field(_field(document, "options", dict), "digits", int, "options."),
                    "options.digits", MIN_DIGITS, MAX_DIGITS)
    cursor = _field(document, "cursor", dict)
    epoch = _whole(_field(cursor, "epoch", int, "cursor."), "cursor.epoch", 1, MAX_EPOCH)
    index = _whole(_field(cursor, "index", int, "cursor."), "cursor.index", 0, 10_000_000)
    runs = tuple(_run(run) for run in _list(document, "runs", MAX_EVENTS))
    events = [_event(event) for event in _list(document, "events", MAX_EVENTS)]
    quiz = _quiz(document.get("quiz"))
    checker = Session(network)
    edits = tuple(sorted((_edit(checker, raw) for raw in _list(document, "edits", MAX_EDITS)),
                         key=lambda e: e.epoch))
    _check_edits(network, edits, "\"edits\"", "its edits")
    stepped = epoch - sum(b - a for a, b in merged_runs(runs) if b <= epoch)
    if stepped > MAX_STEPPED:
        raise _Bad(f"cursor.epoch {epoch:,} leaves {stepped:,} epochs stepped through; at most "
                   f"{MAX_STEPPED:,} are accepted (longer stretches are fast-forwards)")
    session = Session(network, State(1, 0, edits, digits, runs), source, events)
    raw = document.get("checkpoint")  # absent in older files
    checkpoint = None if raw is None else _checkpoint(raw, epoch, network)
    if version == 1:
        _reach_v1(session, epoch, checkpoint)
    elif checkpoint is None:
        raise _Bad("\"checkpoint\" is missing")
    else:
        _reach(session, document.get("checkpoints"), epoch, checkpoint)
    session.state = State(epoch, 0, edits, digits, runs)
    if index > len(session.steps):
        raise _Bad(f"cursor.index {index} is past the last step of epoch {epoch} "
                   f"({len(session.steps)})")
    session.state = State(epoch, index, edits, digits, runs)
    session.quiz = quiz
    if version > 1:
        session.past, session.future = _history(document.get("history"), session)
    return session


def _reach_v1(session: Session, epoch: int, checkpoint: Network | None) -> None:
    """Reach the cursor's epoch of a version 1 file: its checkpoint trusted past
    MAX_CHECKED, checked against the epochs before it up to there."""
    trusted = checkpoint is not None and epoch - 1 > MAX_CHECKED
    if checkpoint is not None and trusted:
        session.timeline.seed(epoch, checkpoint)
    elif checkpoint is None and epoch - 1 > MAX_RECOMPUTED:
        raise _Bad(f"cursor.epoch {epoch:,} has no checkpoint, and reaching it would recompute "
                   f"{epoch - 1:,} epochs; at most {MAX_RECOMPUTED:,} are (a session saved by "
                   "this version has one)")
    start, reached, _ = session.timeline.reach(epoch)
    if reached < epoch:
        raise _Bad(f"cursor.epoch {epoch} lies after epoch {reached}, where training diverges")
    if checkpoint is not None and not trusted and not same_start(start, checkpoint):
        raise _Bad("\"checkpoint\" does not follow from the network and its edits (was the "
                   "file changed by hand?)")


def _reach(session: Session, raw: Any, epoch: int, checkpoint: Network) -> None:
    """Reach the cursor's epoch of a version 2 file: the saved starts of every
    ``spacing``-th epoch seeded into the timeline; the first checked against the network,
    the cursor's against the last before it (the others when a run reaches them). Starts
    that begin later (a session resumed from a version 1 file, saved again) have their first
    trusted, as version 1 trusted its checkpoint."""
    every = spacing(epoch)
    if (not isinstance(raw, dict) or set(raw) != {"every", "starts"}
            or raw["every"] != every or not isinstance(raw["starts"], list)):
        raise _Bad(f"\"checkpoints\" is not {{\"every\": {every}, \"starts\": [the starts "
                   f"of every {every:,}th epoch up to the cursor's]}}")
    starts = raw["starts"]
    last = epoch - epoch % every
    wanted = range(last - every * (len(starts) - 1), last + 1, every)
    if len(starts) > epoch // every:
        raise _Bad(f"\"checkpoints.starts\" has {len(starts):,} entries; the cursor's epoch "
                   f"has {epoch // every:,} before it")
    timeline = session.timeline
    for at, item in zip(wanted, starts, strict=True):
        first = at == wanted[0] and at > every  # trusted: nothing saved before it
        timeline.seed(at, _checkpoint(item, at, session.base, "checkpoints.starts"),
                      checked=first)
    timeline.seed(epoch, checkpoint, checked=False)
    if starts and wanted[0] == every:
        timeline.reach(every)  # the first, from the network
    start, reached, _ = timeline.reach(epoch)  # the cursor's, from the one before it
    if reached < epoch:
        raise _Bad(f"cursor.epoch {epoch} lies after epoch {reached}, where training diverges")
    if not same_start(start, checkpoint):
        before = f"the saved start of epoch {last:,}" if starts else "the network"
        raise _Bad(f"\"checkpoint\" does not follow from {before} and its edits (was the file "
                   "changed by hand?)")
    if timeline.problem is not None:
        raise _Bad(f"\"checkpoints\": {timeline.problem}")


def _checkpoint(raw: Any, epoch: int, base: Network, where: str = "checkpoint") -> Network:
    """The network at the start of ``epoch`` as saved: the cursor's or, ``where``
    "checkpoints.starts", one of the saved starts."""
    if not isinstance(raw, dict) or raw.get("epoch") != epoch:
        what = "the cursor's epoch" if where == "checkpoint" else f"{epoch}"
        raise _Bad(f"\"{where}\" is not {{epoch: {what}, network, state}}")
    try:
        network = network_from_document(_field(raw, "network", dict, f"{where}."),
                                        f"its \"{where}.network\"")
    except NetworkFileError as error:
        raise _Bad(str(error)) from None
    if network.sizes != base.sizes or network.names.biases != base.names.biases:
        raise _Bad(f"\"{where}.network\" is not of the session's network's shape")
    return network.with_state(_state(raw.get("state"), epoch, network, where))


def _state(raw: Any, epoch: int, network: Network, where: str = "checkpoint"
           ) -> OptimizerState | None:
    """The optimiser's state in a checkpoint (null under sgd, and absent in older files):
    the slots of the network's optimiser, each shaped like its weights and its biases (null
    where they stay fixed), finite numbers (s not negative: √s follows), and t, the updates
    since the state last started at zero: at most the updates before ``epoch``, and where it
    is 0 every value is 0. None when at rest (t = 0), as the engine has it."""
    optimizer = OPTIMIZERS[network.optimizer]
    if not optimizer.slots:
        if raw is not None:
            raise _Bad(f"\"{where}.state\" is not null: the network's optimizer is \"sgd\", "
                       "which keeps no state")
        return None
    most = (epoch - 1) * len(network.batches())

    def bad(reason: str) -> _Bad:
        return _Bad(f"\"{where}.state\" is not a state of optimizer "
                    f"\"{network.optimizer}\" on this network: {reason}")

    if not isinstance(raw, dict) or set(raw) != {*optimizer.slots, "t"} or not all(
            isinstance(raw[slot], dict) and set(raw[slot]) == {"weights", "biases"}
            for slot in optimizer.slots):
        slots = ", ".join(f'"{slot}": {{"weights": …, "biases": …}}' for slot in optimizer.slots)
        raise bad(f"it must be {{{slots}, \"t\": n}}")
    t = raw["t"]
    if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t <= most:
        raise bad(f"t must be a whole number from 0 to {most:,} (the updates before epoch "
                  f"{epoch:,})")
    weights = {slot: _layers(raw[slot]["weights"], [w.shape for w in network.weights],
                             f"{slot}.weights", bad) for slot in optimizer.slots}
    biases = {slot: _layers(raw[slot]["biases"], [b.shape for b in network.biases],
                            f"{slot}.biases", bad, fixed=not network.update_biases)
              for slot in optimizer.slots}
    values = [a for found in (weights, biases) for arrays in found.values() for a in arrays]
    if not all(np.isfinite(a).all() for a in values):
        raise bad("its numbers must be finite")
    if "s" in optimizer.slots and any((a < 0).any() for a in (*weights["s"], *biases["s"])):
        raise bad("s, a running mean of squares, must not be negative")
    if t == 0:
        if any(a.any() for a in values):
            raise bad("at t = 0 (no update yet) every value must be 0")
        return None
    return OptimizerState.of(t, weights, biases if network.update_biases else {})


def _layers(raw: Any, shapes: list[tuple[int, ...]], where: str, bad: Callable[[str], _Bad],
            fixed: bool = False) -> list[np.ndarray]:
    """Per layer, numbers shaped as ``shapes`` (``where``: "v.weights"; a layer's biases are
    a list, or one number when shared); every layer null when ``fixed`` (biases that stay
    fixed keep no state)."""
    if fixed:
        if raw != [None] * len(shapes):
            raise bad(f"{where} must be null for every layer: biases stay fixed")
        return []
    if not isinstance(raw, list) or len(raw) != len(shapes):
        raise bad(f"{where} must have one entry per layer ({len(shapes)})")
    found = []
    for layer, shape in zip(raw, shapes, strict=True):
        if shape == (1,) and _is_number(layer):
            layer = [layer]
        if not _shaped(layer, shape):
            raise bad(f"{where} must be shaped like the network's {where.partition('.')[2]}, "
                      "in numbers")
        try:
            found.append(np.array(layer, dtype=np.float64))
        except OverflowError:  # a whole number beyond float range
            raise bad("its numbers must be finite") from None
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shaped(value: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``value`` is nested lists of numbers of exactly this shape."""
    if not shape:
        return _is_number(value)
    return (isinstance(value, list) and len(value) == shape[0]
            and all(_shaped(item, shape[1:]) for item in value))


def _history(raw: Any, session: Session) -> tuple[list[State], list[State]]:
    """The undo history (absent: none), each state checked as the cursor is: its edits as
    edits, its fast-forwards as runs, its step within its epoch, its epochs stepped through
    at most MAX_STEPPED. Each of its sets of edits gets its timeline."""
    if raw is None:
        return [], []
    keys = {"edits", "runs", "past", "future"}
    if not isinstance(raw, dict) or set(raw) != keys or not all(
            isinstance(raw[key], list) for key in keys):
        raise _Bad("\"history\" is not {edits, runs, past, future}, each a list")
    for key, limit in (("edits", MAX_EDITS), ("runs", MAX_EVENTS), ("past", HISTORY),
                       ("future", HISTORY)):
        _list(raw, key, limit)
    checker = Session(session.base)
    edits = [_edit(checker, _short_edit(item)) for item in raw["edits"]]
    runs = [_run(item) for item in raw["runs"]]
    checked: dict[tuple[Edit, ...], None] = {}
    counts: dict[tuple[Edit, ...], int] = {}  # steps of an epoch, by the edits in force

    def state(item: Any) -> State:
        if (not isinstance(item, list) or len(item) != 5 or not all(
                isinstance(x, int) and not isinstance(x, bool) for x in item[:3])
                or not all(isinstance(x, list) and all(
                    isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(found)
                    for i in x) for x, found in ((item[3], edits), (item[4], runs)))):
            raise _Bad("an entry of \"history\" is not [epoch, index, digits, [edits], "
                       "[runs]], edits and runs as indexes into its lists")
        epoch = _whole(item[0], "history: epoch", 1, MAX_EPOCH)
        index = _whole(item[1], "history: index", 0, 10_000_000)
        digits = _whole(item[2], "history: digits", MIN_DIGITS, MAX_DIGITS)
        own = tuple(edits[i] for i in item[3])
        ran = tuple(runs[i] for i in item[4])
        if own not in checked:
            _check_edits(session.base, own, "\"history\"", "the history's edits")
            checked[own] = None
        stepped = epoch - sum(b - a for a, b in merged_runs(ran) if b <= epoch)
        if stepped > MAX_STEPPED:
            raise _Bad(f"history: epoch {epoch:,} leaves {stepped:,} epochs stepped through; "
                       f"at most {MAX_STEPPED:,} are accepted")
        in_force = tuple(edit for edit in own if edit.epoch <= epoch  # options, not numbers
                         and session.base.names.given(edit.name) is None)
        if in_force not in counts:
            counts[in_force] = _steps_counted(session.base, in_force)
        if index > counts[in_force]:
            raise _Bad(f"history: step {index} is past the last step of epoch {epoch} "
                       f"({counts[in_force]})")
        return State(epoch, index, own, digits, ran)

    past, future = [state(item) for item in raw["past"]], [state(item) for item in raw["future"]]
    for own in checked:
        session.timeline_for(own)
    return past, future


def _short_edit(raw: Any) -> dict[str, Any]:
    """A history's edit, [epoch, name, value], as the edits list writes one."""
    if not isinstance(raw, list) or len(raw) != 3:
        raise _Bad("an entry of \"history.edits\" is not [epoch, name, value]")
    return {"epoch": raw[0], "name": raw[1], "value": raw[2]}


def _steps_counted(network: Network, edits: tuple[Edit, ...]) -> int:
    """How many steps an epoch has under ``edits`` (the edits of options in force by it):
    they follow from the network's shape and options, not from its numbers (but where they
    stop being finite: see Session._within), so the network as given with the edits applied
    will do."""
    for edit in edits:
        network = apply_edit(network, edit)
    return len(EpochSteps(1, trace_epoch(network)))


def _check_edits(network: Network, edits: tuple[Edit, ...], where: str, they: str) -> None:
    """Edits in order of epoch, none changing a value twice in one epoch, that combine
    (``where``: "\"edits\"", "history"; ``they``: the edits in a message)."""
    if list(edits) != sorted(edits, key=lambda e: e.epoch):
        raise _Bad(f"{where}: {they} are not in the order of their epochs")
    if len({(e.epoch, e.name) for e in edits}) < len(edits):
        raise _Bad(f"{where} changes a value twice in one epoch")
    wrong = combination_problem(network, edits)
    if wrong:
        raise _Bad(f"{they} cannot be used: {as_edit(*wrong)}")


def _quiz(raw: Any) -> Quiz:
    """The quiz: on/off, its tolerance and the answers (absent in older files: off)."""
    if raw is None:
        return Quiz()
    if not isinstance(raw, dict):
        raise _Bad("\"quiz\" is not an object")
    on = raw.get("on", False)
    if not isinstance(on, bool):
        raise _Bad("\"quiz.on\" is not true or false")
    tolerance = raw.get("tolerance", DEFAULT_TOLERANCE)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise _Bad("quiz.tolerance: not a number")
    try:
        tolerance = check_tolerance(tolerance)
    except ValueError as problem:
        raise _Bad(f"quiz.tolerance: {problem}") from None
    answers = [_answer(a) for a in _list(raw, "answers", MAX_EVENTS)]
    return Quiz(on, tolerance, answers)


def _answer(raw: Any) -> Answer:
    if not isinstance(raw, dict):
        raise _Bad("an entry of \"quiz.answers\" is not an object")
    epoch, index, answer = raw.get("epoch"), raw.get("index"), raw.get("answer")
    key, phase, verdict, slip = (raw.get(k) for k in ("key", "phase", "verdict", "slip"))
    value = raw.get("value")  # the step's value then (absent in older files: any value)
    if (not isinstance(epoch, int) or isinstance(epoch, bool) or not 1 <= epoch <= MAX_EPOCH
            or not isinstance(index, int) or isinstance(index, bool)
            or not 1 <= index <= 10_000_000
            or not all(isinstance(t, str) and len(t) <= 200 and t.isprintable()
                       for t in (key, phase, slip or ""))
            or verdict not in VERDICTS
            or (answer is None) != (verdict == "revealed")
            or not all(number is None or (not isinstance(number, bool)
                                          and isinstance(number, (int, float))
                                          and math.isfinite(number))
                       for number in (answer, value))):
        raise _Bad("an entry of \"quiz.answers\" does not have epoch, index, key, phase, "
                   "answer (a number; null when revealed), verdict (right, slip, wrong or "
                   "revealed) and the step's value (a number)")
    return Answer(epoch, index, str(key), str(phase), _float(answer), verdict, slip or "",
                  _float(value))


def _float(number: float | None) -> float | None:
    return None if number is None else float(number)


def _edit(checker: Session, raw: Any) -> Edit:
    if not isinstance(raw, dict):
        raise _Bad("an entry of \"edits\" is not an object")
    epoch = _whole(_field(raw, "epoch", int), "edits[].epoch", 1, MAX_EPOCH)
    name = _field(raw, "name", str)
    value = raw.get("value")
    if not isinstance(value, (int, float, str, bool)):
        raise _Bad(f"edit of {quoted(name)}: its value is not a number, text or true/false")
    try:
        name, value = checker.check_value(name, value)
    except EditError as error:
        raise _Bad(f"edit of {quoted(name)} in epoch {epoch}: {error}") from None
    return Edit(epoch, name, value)



def _field(document: dict[str, Any], key: str, kind: type, within: str = "") -> Any:
    if key not in document:
        raise _Bad(f"\"{within}{key}\" is missing")
    value = document[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad(f"\"{within}{key}\" is not {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES = {dict: "an object", list: "a list", int: "a whole number", str: "text"}


def _whole(value: int, where: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise _Bad(f"{where} must be from {low} to {high:,}, got {value}")
    return value


def _list(document: dict[str, Any], key: str, limit: int) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise _Bad(f"\"{key}\" is not a list")
    if len(value) > limit:
        raise _Bad(f"\"{key}\" has {len(value):,} entries; at most {limit:,} are accepted")
    return value


def _run(raw: Any) -> tuple[int, int]:
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)
            or not 1 <= raw[0] < raw[1] <= MAX_EPOCH):
        raise _Bad("an entry of \"runs\" is not [from epoch, to epoch]")
    return raw[0], raw[1]


def _event(raw: Any) -> Event:
    if not isinstance(raw, dict):
        raise _Bad("an entry of \"events\" is not an object")
    action = raw.get("action")
    epoch, index, changes = raw.get("epoch"), raw.get("index"), raw.get("changes")
    if (not isinstance(action, str) or len(action) > 40
            or not isinstance(epoch, int) or isinstance(epoch, bool) or not 1 <= epoch <= MAX_EPOCH
            or not isinstance(index, int) or isinstance(index, bool)
            or not 0 <= index <= 10_000_000
            or not isinstance(changes, list) or len(changes) > MAX_CHANGES
            or not all(isinstance(c, str) and len(c) < 500 and c.isprintable()
                       for c in changes)):
        raise _Bad("an entry of \"events\" does not have action, epoch, index and changes")
    return {"action": action, "epoch": epoch, "index": index, "changes": list(changes)}


def _source(raw: Any) -> Source | None:
    if raw is None:
        return None
    if (not isinstance(raw, dict) or raw.get("kind") not in ("preset", "file")
            or not isinstance(raw.get("name"), str) or not isinstance(raw.get("text"), str)
            or len(raw["text"]) > 1_000_000 or len(raw["name"]) > 4096
            or not raw["name"].isprintable()):
        raise _Bad("\"source\" is not {kind: preset|file, name, text}")
    return Source(raw["kind"], raw["name"], raw["text"])
