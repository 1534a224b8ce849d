"""The session as a JSON document, and back: the save file, the resume, the JSON log.

A session file may come from anywhere, so nothing in it is trusted: every field is checked
for type and size, the network goes through the network-file checks, and each edit through
the session's own edit checks. Any problem is one line, never a traceback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backprop_tui import __version__
from backprop_tui.netfile import NetworkFileError, Source, network_from_document
from backprop_tui.network import Network
from backprop_tui.numbers import MAX_DIGITS, MIN_DIGITS
from backprop_tui.output import TooBig, quoted, read_bounded
from backprop_tui.session.quiz import (
    DEFAULT_TOLERANCE,
    VERDICTS,
    Answer,
    Quiz,
    check_tolerance,
)
from backprop_tui.session.session import (
    EditError,
    Event,
    Session,
    State,
    as_edit,
    combination_problem,
    merged_runs,
)
from backprop_tui.session.timeline import Edit

SCHEMA = "backprop-tui/session"
VERSION = 1
# A session document, read or saved (the app's save file, --resume, export --resume): a
# file of its log may be big, but not this big.
MAX_BYTES = 64 * 1024 * 1024
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
        "checkpoint": {"epoch": state.epoch, "network": session.network.to_document()},
        "edits": [{"epoch": e.epoch, "name": e.name, "value": e.value} for e in state.edits],
        "runs": [list(run) for run in state.runs],
        "events": session.events,
        "quiz": session.quiz.document(),
    }


def dump_session(session: Session, steps: Iterable[Record], epochs: Iterable[Record],
                 now: datetime | None = None) -> Iterator[str]:
    """The JSON document in pieces, so a long log streams instead of sitting in memory."""
    head = json.dumps(header(session, now), ensure_ascii=False, indent=1)
    yield head[:-2] + ',\n "steps": ['
    yield from _items(steps)
    yield '],\n "epochs": ['
    yield from _items(epochs)
    yield "]\n}\n"


def _items(records: Iterable[Record]) -> Iterator[str]:
    for i, record in enumerate(records):
        yield ("\n  " if i == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False)


def read_session(path: str | Path) -> Session:
    """The session saved at ``path``, read up to MAX_BYTES; SessionFileError (one line) if
    it cannot be resumed, OSError or ValueError (a NUL in the path) if it cannot be read."""
    try:
        data = read_bounded(path, MAX_BYTES)
    except TooBig:
        raise SessionFileError(f"{path}: more than {MAX_BYTES:,} bytes, too big for a session "
                               "file") from None
    return load_session(data, str(path))


def load_session(data: str | bytes, name: str) -> Session:
    """Rebuild a session from a document written by ``dump_session``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        document = json.loads(text.removeprefix("\ufeff"), parse_constant=_no_constant)
        # A lone surrogate (\ud800) parses but could never be written back out.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as error:
        raise SessionFileError(f"{name}: not a session file (not valid JSON: {error})") from None
    try:
        return _session(document)
    except _Bad as problem:
        raise SessionFileError(f"{name}: {problem}") from None


class _Bad(Exception):
    pass


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


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
    same = {(e.epoch, e.name) for e in edits}
    if len(same) < len(edits):
        raise _Bad("\"edits\" changes a value twice in one epoch")
    wrong = combination_problem(network, edits)
    if wrong:
        raise _Bad(f"its edits cannot be used: {as_edit(*wrong)}")
    stepped = epoch - sum(b - a for a, b in merged_runs(runs) if b <= epoch)
    if stepped > MAX_STEPPED:
        raise _Bad(f"cursor.epoch {epoch:,} leaves {stepped:,} epochs stepped through; at most "
                   f"{MAX_STEPPED:,} are accepted (longer stretches are fast-forwards)")
    session = Session(network, State(1, 0, edits, digits, runs), source, events)
    checkpoint = _checkpoint(document.get("checkpoint"), epoch, network)
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
    if checkpoint is not None and not trusted and not _same(start.to_document(),
                                                           checkpoint.to_document()):
        raise _Bad("\"checkpoint.network\" does not follow from the network and its edits "
                   "(was the file changed by hand?)")
    session.state = State(epoch, 0, edits, digits, runs)
    if index > len(session.steps):
        raise _Bad(f"cursor.index {index} is past the last step of epoch {epoch} "
                   f"({len(session.steps)})")
    session.state = State(epoch, index, edits, digits, runs)
    session.quiz = quiz
    return session


def _same(ours: Any, theirs: Any) -> bool:
    """Whether two network documents agree, their numbers to 1e-9 relative."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_same, ours, theirs))
    if isinstance(ours, float) or isinstance(theirs, float):
        return (isinstance(ours, int | float) and isinstance(theirs, int | float)
                and math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-15))
    return bool(ours == theirs)


def _checkpoint(raw: Any, epoch: int, base: Network) -> Network | None:
    """The network at the start of the cursor's epoch, as saved (absent in older files)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("epoch") != epoch:
        raise _Bad("\"checkpoint\" is not {epoch: the cursor's epoch, network}")
    try:
        network = network_from_document(_field(raw, "network", dict, "checkpoint."),
                                        "its \"checkpoint.network\"")
    except NetworkFileError as error:
        raise _Bad(str(error)) from None
    if network.sizes != base.sizes or network.names.biases != base.names.biases:
        raise _Bad("\"checkpoint.network\" is not of the session's network's shape")
    return network


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
    if (not isinstance(epoch, int) or isinstance(epoch, bool) or not 1 <= epoch <= MAX_EPOCH
            or not isinstance(index, int) or isinstance(index, bool)
            or not 1 <= index <= 10_000_000
            or not all(isinstance(t, str) and len(t) <= 200 and t.isprintable()
                       for t in (key, phase, slip or ""))
            or verdict not in VERDICTS
            or (answer is None) != (verdict == "revealed")
            or (answer is not None and (isinstance(answer, bool)
                                        or not isinstance(answer, (int, float))
                                        or not math.isfinite(answer)))):
        raise _Bad("an entry of \"quiz.answers\" does not have epoch, index, key, phase, "
                   "answer (a number; null when revealed) and verdict (right, slip, wrong or "
                   "revealed)")
    number = None if answer is None else float(answer)
    return Answer(epoch, index, str(key), str(phase), number, verdict, slip or "")


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
