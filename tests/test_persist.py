"""The session document: export → resume → export round trips, and hostile files refused.

A session file may come from anywhere. Whatever is in it, resuming either gives the session
back or fails with SessionFileError in one line: never a traceback, never another exception.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from backprop_tui.cli import main
from backprop_tui.engine.trace import trace_epoch
from backprop_tui.export.formats import FORMATS
from backprop_tui.functions import OPTIMIZERS
from backprop_tui.netfile import Source, parse_network
from backprop_tui.network import Network
from backprop_tui.presets import load_preset, preset_text
from backprop_tui.session import persist, timeline
from backprop_tui.session.persist import (
    MAX_EPOCH,
    SessionFileError,
    dump_session,
    load_session,
)
from backprop_tui.session.session import Session
from test_state_outputs import flat, network_text

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)



def edited_session() -> Session:
    """The tutorial with edits (a weight, the learning rate, update_order), an undo and a
    redo of one, an undone edit, epochs stepped forward and back, a fast-forward of 20 and
    the cursor in the middle of an epoch."""
    session = Session(load_preset("mazur"), source=Source("preset", "mazur",
                                                          preset_text("mazur")))
    for _ in range(3):
        assert session.next()
    assert session.edit("w5", 0.3)
    assert session.next_epoch()
    assert session.edit("eta", 0.25)
    assert session.undo() and session.redo()
    assert session.next_epoch()
    assert session.fast_forward(20)
    assert session.edit("update_order", "during_backward")
    assert session.next_epoch() and session.next_epoch() and session.prev_epoch()
    assert session.edit("w1", 0.11) and session.undo()
    assert session.goto(7) and session.next()
    assert session.state.epoch == 24 and session.state.index == 8
    assert 0 < session.index < len(session.steps)
    return session


def exported(session: Session, fmt: str = "json") -> str:
    return "".join(FORMATS[fmt](session, NOW))


def without_time(text: str) -> dict[str, Any]:
    document = json.loads(text)
    assert isinstance(document.pop("exported"), str)
    return document


def export_resumed(capsys, path: str, out: str, fmt: str = "json") -> tuple[int, str, str]:
    status = main(["export", "--format", fmt, "--resume", path, "-o", out])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(message: str) -> str:
    assert message and len(message.splitlines()) == 1, message[:500]
    assert "Traceback" not in message
    return message


# Round trips -------------------------------------------------------------------------


def test_round_trip_in_process_gives_the_same_document() -> None:
    session = edited_session()
    first = exported(session)
    resumed = load_session(first, "first.json")
    second = exported(resumed)
    assert without_time(second) == without_time(first)
    assert second == first  # the same `now`: the very same text
    again = exported(load_session(second.encode("utf-8"), "second.json"))
    assert again == first


def test_round_trip_through_the_cli_gives_the_same_document(tmp_path, capsys) -> None:
    first = tmp_path / "first.json"
    first.write_text(exported(edited_session()), encoding="utf-8")
    second = tmp_path / "second.json"
    assert export_resumed(capsys, str(first), str(second)) == (0, "", "")
    original = without_time(first.read_text(encoding="utf-8"))
    assert without_time(second.read_text(encoding="utf-8")) == original
    third = tmp_path / "third.json"
    assert export_resumed(capsys, str(second), str(third)) == (0, "", "")
    assert without_time(third.read_text(encoding="utf-8")) == original


def test_the_resumed_session_equals_the_original() -> None:
    session = edited_session()
    resumed = load_session(exported(session), "saved.json")
    assert resumed.state == session.state
    assert (resumed.epoch, resumed.index, resumed.digits) == (24, 8, session.digits)
    assert resumed.state.edits == session.state.edits
    assert resumed.state.runs == session.state.runs == ((3, 23),)
    assert resumed.events == session.events
    assert [e["action"] for e in resumed.events] == [
        "edit", "edit", "undo", "redo", "fast-forward", "edit", "edit", "undo"]
    assert resumed.source == session.source
    assert resumed.base.to_document() == session.base.to_document()
    assert resumed.network.to_document() == session.network.to_document()
    assert resumed.step is not None and session.step is not None
    assert resumed.step.key == session.step.key
    assert resumed.step.value == session.step.value
    assert [s.value for s in resumed.steps] == [s.value for s in session.steps]
    assert resumed.diverged is None and session.diverged is None
    # Every format built from the log agrees too.
    assert exported(resumed, "jsonl") == exported(session, "jsonl")


def test_an_autosave_document_without_steps_resumes() -> None:
    session = edited_session()
    text = "".join(dump_session(session, [], [], NOW))
    document = json.loads(text)
    assert document["steps"] == [] and document["epochs"] == []
    resumed = load_session(text, "autosave.json")
    assert resumed.state == session.state
    assert resumed.events == session.events
    assert resumed.step is not None and session.step is not None
    assert (resumed.step.key, resumed.step.value) == (session.step.key, session.step.value)
    assert exported(resumed) == exported(session)


def test_a_session_at_the_very_start_round_trips() -> None:
    session = Session(load_preset("mazur"))  # no source, no events, nothing computed
    text = exported(session)
    resumed = load_session(text, "start.json")
    assert resumed.state == session.state and resumed.events == [] and resumed.source is None
    assert exported(resumed) == text


# Hostile and damaged files -----------------------------------------------------------


def base_document() -> dict[str, Any]:
    """A valid document, small and quick to resume: the tutorial at epoch 1, step 5."""
    session = Session(load_preset("mazur"), source=Source("preset", "mazur",
                                                          preset_text("mazur")))
    session.goto(5)
    session.edit("w5", 0.3)
    return json.loads(exported(session))


BASE = base_document()
STEPS_PER_EPOCH = len(Session(load_preset("mazur")).steps)
EVENT = {"action": "edit", "epoch": 1, "index": 0, "changes": ["w5: 0.4 → 0.3 from epoch 1"]}


def changed(**changes: Any) -> str:
    """BASE with top-level keys replaced (a value of ... deletes the key), as JSON text."""
    document = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is ...:
            del document[key]
        else:
            document[key] = value
    return json.dumps(document)


def with_network(path: tuple, value: Any) -> str:
    document = copy.deepcopy(BASE)
    target = document["network"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(document)  # NaN becomes the NaN literal


def huge_events() -> str:
    document = copy.deepcopy(BASE)
    document["events"] = []
    text = json.dumps(document, separators=(",", ":"))
    compact = json.dumps(EVENT, separators=(",", ":"), ensure_ascii=False)
    events = "[" + ",".join([compact] * 200_001) + "]"
    return text.replace('"events":[]', '"events":' + events, 1)


def cursor(epoch: Any = 1, index: Any = 5) -> str:
    return changed(cursor={"epoch": epoch, "index": index})


def edit(name: Any = "w5", value: Any = 0.3, epoch: Any = 1) -> str:
    return changed(edits=[{"epoch": epoch, "name": name, "value": value}])


VALID = json.dumps(BASE)

HOSTILE: dict[str, tuple[str | bytes, str]] = {
    # name: (the file's contents, a part of the message)
    "empty": ("", "not valid JSON"),
    "not JSON": ("schema = 'backprop-tui/session'", "not valid JSON"),
    "truncated": (VALID[: len(VALID) // 2], "not valid JSON"),
    "a JSON list": ("[1, 2, 3]", "schema"),
    "a JSON string": ('"backprop-tui/session"', "schema"),
    "null": ("null", "schema"),
    "wrong schema": (changed(schema="backprop-tui/network"), "schema"),
    "no schema": (changed(schema=...), "schema"),
    "version 3": (changed(version=3), "newer"),
    "version 10**30": (changed(version=10**30), "newer"),
    "version '1'": (changed(version="1"), "version"),
    "version true": (changed(version=True), "version"),
    "version 1.0": (changed(version=1.0), "version"),
    "version 0": (changed(version=0), "version"),
    "no version": (changed(version=...), "version"),
    "no network": (changed(network=...), "network"),
    "network a list": (changed(network=[1, 2]), "network"),
    "network empty": (changed(network={}), "network"),
    "network NaN weight": (with_network(("layer", 0, "weights", 0, 0), float("nan")), "NaN"),
    "network Infinity input": (with_network(("inputs", 0), float("inf")), "Infinity"),
    "network string weight": (with_network(("layer", 0, "weights", 0, 0), "0.15"), "weights"),
    "network bool weight": (with_network(("layer", 0, "weights", 0, 0), True), "weights"),
    "network huge int weight": (with_network(("layer", 0, "weights", 0, 0), 10**400),
                                "finite"),
    "network unknown key": (with_network(("shell",), "rm -rf /"), "shell"),
    "network 9 layers": (with_network(("layer",), [BASE["network"]["layer"][0]] * 9), "layers"),
    "network 10,000 inputs": (with_network(("inputs",), [0.5] * 10_000), "inputs"),
    "network bad loss": (with_network(("loss",), "l1"), "loss"),
    "cursor epoch 0": (cursor(epoch=0), "cursor.epoch"),
    "cursor epoch -1": (cursor(epoch=-1), "cursor.epoch"),
    "cursor epoch 10**12": (cursor(epoch=10**12), "cursor.epoch"),
    "cursor epoch MAX_EPOCH + 1": (cursor(epoch=MAX_EPOCH + 1), "cursor.epoch"),
    "cursor epoch '5'": (cursor(epoch="5"), "epoch"),
    "cursor epoch 1.5": (cursor(epoch=1.5), "epoch"),
    "cursor epoch true": (cursor(epoch=True), "epoch"),
    "cursor epoch null": (cursor(epoch=None), "epoch"),
    "cursor epoch 1e400": (VALID.replace('"cursor": {"epoch": 1', '"cursor": {"epoch": 1e400'),
                           "epoch"),
    "cursor epoch of 5,000 digits": (VALID.replace('"cursor": {"epoch": 1',
                                                   '"cursor": {"epoch": ' + "9" * 5000),
                                     "not valid JSON"),
    "cursor index past the steps": (cursor(index=STEPS_PER_EPOCH + 1), "cursor.index"),
    "cursor index -1": (cursor(index=-1), "cursor.index"),
    "cursor index 10**9": (cursor(index=10**9), "cursor.index"),
    "cursor index '3'": (cursor(index="3"), "index"),
    "cursor a list": (changed(cursor=[1, 5]), "cursor"),
    "no cursor": (changed(cursor=...), "cursor"),
    "no options": (changed(options=...), "options"),
    "digits 10**6": (changed(options={"digits": 10**6}), "digits"),
    "digits '9'": (changed(options={"digits": "9"}), "digits"),
    "edits not a list": (changed(edits={"w5": 0.3}), "edits"),
    "edits a string": (changed(edits="w5=0.3"), "edits"),
    "an edit not an object": (changed(edits=[["w5", 0.3]]), "edits"),
    "an edit with an unknown name": (edit(name="w99"), "w99"),
    "an edit named by a number": (edit(name=5), "name"),
    "an edit without a name": (changed(edits=[{"epoch": 1, "value": 0.3}]), "name"),
    "an edit without a value": (changed(edits=[{"epoch": 1, "name": "w5"}]), "value"),
    "an edit in epoch 0": (edit(epoch=0), "epoch"),
    "an edit in epoch 10**12": (edit(epoch=10**12), "epoch"),
    "a NaN weight edit": (edit(value=float("nan")), "NaN"),
    "an Infinity weight edit": (edit(value=float("inf")), "Infinity"),
    "a -Infinity weight edit": (edit(value=float("-inf")), "Infinity"),
    "a 1e400 weight edit": (edit(value=1e400).replace("Infinity", "1e400"), "finite"),
    "a 'nan' weight edit": (edit(value="nan"), "finite"),
    "a 'inf' weight edit": (edit(value="inf"), "finite"),
    "a huge integer weight edit": (edit(value=10**400), "w5"),
    "a true weight edit": (edit(value=True), "true/false"),
    "a false weight edit": (edit(value=False), "true/false"),
    "a null weight edit": (edit(value=None), "value"),
    "a list weight edit": (edit(value=[0.3]), "value"),
    "an object weight edit": (edit(value={"v": 0.3}), "value"),
    "a text weight edit": (edit(value="heavy"), "number"),
    "loss l1": (edit(name="loss", value="l1"), "loss"),
    "update_order sideways": (edit(name="update_order", value="sideways"), "update_order"),
    "update_biases 'yes'": (edit(name="update_biases", value="yes"), "update_biases"),
    "a learning rate of 0": (edit(name="learning_rate", value=0), "learning rate"),
    "a learning rate of -1": (edit(name="eta", value=-1), "learning rate"),
    "activation9": (edit(name="activation9", value="tanh"), "layers"),
    "activation1 swish": (edit(name="activation1", value="swish"), "activation"),
    "10,001 edits": (changed(edits=[{"epoch": 1, "name": "w5", "value": 0.3}] * 10_001),
                     "edits"),
    "runs [[5, 3]]": (changed(runs=[[5, 3]]), "runs"),
    "runs [[3, 3]]": (changed(runs=[[3, 3]]), "runs"),
    "runs [[0, 3]]": (changed(runs=[[0, 3]]), "runs"),
    "runs [[1, 2, 3]]": (changed(runs=[[1, 2, 3]]), "runs"),
    "runs [[1, 2.5]]": (changed(runs=[[1, 2.5]]), "runs"),
    "runs [[true, 3]]": (changed(runs=[[True, 3]]), "runs"),
    "runs [[1, 10**12]]": (changed(runs=[[1, 10**12]]), "runs"),
    "runs [5]": (changed(runs=[5]), "runs"),
    "runs an object": (changed(runs={"1": 3}), "runs"),
    "200,001 events": (huge_events(), "events"),
    "events an object": (changed(events={"0": EVENT}), "events"),
    "an event that is a number": (changed(events=[1]), "events"),
    "an event that is text": (changed(events=["edit"]), "events"),
    "an event that is a list": (changed(events=[["edit", 1, 0, []]]), "events"),
    "an event with a number action": (changed(events=[{**EVENT, "action": 5}]), "events"),
    "an event with a text epoch": (changed(events=[{**EVENT, "epoch": "1"}]), "events"),
    "an event with a float index": (changed(events=[{**EVENT, "index": 0.5}]), "events"),
    "an event with changes as text": (changed(events=[{**EVENT, "changes": "w5"}]), "events"),
    "an event with a number change": (changed(events=[{**EVENT, "changes": [5]}]), "events"),
    "an event with a 100 kB change": (changed(events=[{**EVENT, "changes": ["x" * 100_000]}]),
                                      "events"),
    "an event with a long action": (changed(events=[{**EVENT, "action": "x" * 10_000}]),
                                    "events"),
    "an event without changes": (changed(events=[{"action": "edit", "epoch": 1, "index": 0}]),
                                 "events"),
    "a source with 2 MB of text": (changed(source={"kind": "file", "name": "big.toml",
                                                   "text": "#" * 2_000_000}), "source"),
    "a source of an unknown kind": (changed(source={"kind": "url", "name": "x", "text": ""}),
                                    "source"),
    "a source that is text": (changed(source="mazur"), "source"),
    "a source without text": (changed(source={"kind": "preset", "name": "mazur"}), "source"),
    "nested lists 100,000 deep": ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    "unclosed lists 100,000 deep": ("[" * 100_000, "not valid JSON"),
    "nested objects 100,000 deep": ('{"a":' * 100_000 + "1" + "}" * 100_000, "not valid JSON"),
    "a network nested 100,000 deep": (
        VALID.replace('"inputs": [', '"inputs": [' + "[" * 100_000 + "]" * 100_000 + ", ", 1),
        "not valid JSON"),
    "a network nested 500 deep": (
        VALID.replace('"inputs": [', '"inputs": [' + "[" * 500 + "]" * 500 + ", ", 1),
        "inputs"),
    "invalid UTF-8": (b"\xff\xfe\x00{", "not valid JSON"),
    "invalid UTF-8 inside a string": (
        VALID.encode("utf-8").replace(b'"mazur"', b'"ma\xc3\x28zur"', 1), "not valid JSON"),
    "UTF-16": (VALID.encode("utf-16"), "not valid JSON"),
    "a NUL byte": (b"\x00" + VALID.encode("utf-8"), "not valid JSON"),
}

PREFIX = "hostile.json: "


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_in_one_line(name: str) -> None:
    data, expected = HOSTILE[name]
    with pytest.raises(SessionFileError) as caught:
        load_session(data, "hostile.json")
    message = one_line(str(caught.value))
    assert message.startswith(PREFIX), message[:300]
    assert expected in message, message[:300]


@pytest.mark.parametrize("name", [
    "not JSON", "a JSON list", "version 3", "network NaN weight", "cursor epoch 10**12",
    "cursor index past the steps", "a huge integer weight edit", "200,001 events",
    "a source with 2 MB of text", "nested lists 100,000 deep", "invalid UTF-8",
])
def test_the_cli_refuses_a_hostile_file_in_one_line(name: str, tmp_path, capsys) -> None:
    data, expected = HOSTILE[name]
    path = tmp_path / "hostile.json"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    out = tmp_path / "out.json"
    status, stdout, stderr = export_resumed(capsys, str(path), str(out))
    assert (status, stdout) == (2, "")
    assert stderr.endswith("\n") and stderr.startswith(f"backprop-tui: {path}: ")
    assert expected in one_line(stderr.rstrip("\n"))
    assert not out.exists()


def test_a_lone_surrogate_in_a_session_file_is_refused_or_written(tmp_path, capsys) -> None:
    """JSON may escape half of a surrogate pair ("\\ud800"): such a file is either refused,
    or resumed and exported without an exception."""
    for where in ("source name", "event change"):
        document = copy.deepcopy(BASE)
        if where == "source name":
            document["source"]["name"] = "mazur\ud800"
        else:
            document["events"] = [{**EVENT, "changes": ["w5 \udcff"]}]
        path = tmp_path / f"{where}.json"
        path.write_text(json.dumps(document), encoding="ascii")  # \ud800 as an escape
        for fmt in ("json", "jsonl"):
            out = tmp_path / f"{where}.{fmt}"
            status, _, stderr = export_resumed(capsys, str(path), str(out), fmt)
            if status == 0:
                assert stderr == ""
                out.read_bytes().decode("utf-8")
            else:
                assert status == 2 and stderr.startswith("backprop-tui: ")
                one_line(stderr.rstrip("\n"))


# A seeded sweep of damaged documents -------------------------------------------------

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2, 1.5, -0.0, "", "x", "1", "nan", "w5", [], {}, [[]],
    [1, 2], {"a": 1}, 10**12, -(10**12), 2**63, 10**400, 1e308, -1e308, 5e-324,
    "x" * 600, ["x" * 600], MAX_EPOCH + 1,
]
LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 400, "1" + "0" * 5000]


def sweep_base() -> dict[str, Any]:
    """edited_session() as an autosave would write it (no steps), with two step records."""
    session = edited_session()
    document = json.loads("".join(dump_session(session, [], [], NOW)))
    full = json.loads(exported(session))
    document["steps"] = full["steps"][:2]
    document["epochs"] = full["epochs"][:1]
    return document


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value: dict keys and list positions, nested."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:6]):
            found += paths(item, (*prefix, i))
    return found


def leaves(value: Any) -> list[tuple]:
    return [p for p in paths(value) if not isinstance(_get(value, p), dict | list)]


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def mutate(rng: random.Random, base: dict[str, Any], text: str) -> str | bytes:
    kind = rng.choice(["delete", "swap", "swap", "huge", "literal", "truncate", "bytes",
                       "several"])
    if kind in ("delete", "swap", "huge", "several"):
        document = copy.deepcopy(base)
        for _ in range(rng.randint(2, 5) if kind == "several" else 1):
            places = paths(document) if kind != "huge" else leaves(document)
            if not places:
                break
            path = rng.choice(places)
            parent = _get(document, path[:-1])
            action = rng.choice(["delete", "swap"]) if kind == "several" else kind
            if action == "delete":
                del parent[path[-1]]
            elif action == "swap":
                parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
            else:
                parent[path[-1]] = rng.choice([10**9, -(10**9), 10**18, 2**64, 10**400,
                                               1e308, -1e308, 1e-320, MAX_EPOCH + 1])
        return json.dumps(document, ensure_ascii=rng.random() < 0.5)
    if kind == "literal":  # replace a number in the text with NaN, Infinity, huge, …
        numbers = [i for i, c in enumerate(text) if c.isdigit() and not text[i - 1].isalnum()
                   and text[i - 1] not in '."\\-']
        at = rng.choice(numbers)
        end = at
        while end < len(text) and (text[end].isdigit() or text[end] in ".eE+-"):
            end += 1
        return text[:at] + rng.choice(LITERALS) + text[end:]
    if kind == "truncate":
        return text[: rng.randrange(len(text))]
    data = bytearray(text.encode("utf-8"))  # "bytes": a few random bytes overwritten
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def loaded_or_refused(case: int, data: str | bytes, name: str) -> Session | None:
    """The session in ``data``, or None when it is refused in one printable line that names
    the file; any other error fails the test, naming the case and the data."""
    try:
        return load_session(data, name)
    except SessionFileError as error:
        message = one_line(str(error))
        assert message.startswith(f"{name}: ") and message.isprintable(), (case, message[:300])
        return None
    except Exception as error:  # pragma: no cover - the failure names the case
        raise AssertionError(f"case {case}: {type(error).__name__}: {error}; "
                             f"data {data[:300]!r}…") from error


def test_a_seeded_sweep_of_damaged_documents_loads_or_is_refused_in_one_line() -> None:
    base = sweep_base()
    text = json.dumps(base, indent=1, ensure_ascii=False)
    assert load_session(text, "base.json").state == edited_session().state
    rng = random.Random(0)
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(400):
        session = loaded_or_refused(case, mutate(rng, base, text), "damaged.json")
        if session is None:
            outcomes["refused"] += 1
            continue
        outcomes["loaded"] += 1
        assert 1 <= session.epoch <= MAX_EPOCH and 0 <= session.index <= len(session.steps)
        exported(session, "jsonl").encode("utf-8")  # what resumes also exports, as UTF-8
    assert outcomes["loaded"] > 20 and outcomes["refused"] > 100, outcomes


# Hostile documents: what an attacker, not a disk, writes ----------------------------------

UNICODE_DIGITS = ["²", "٣", "１", "߃", "𝟗", "½"]
CONTROLS = ["\x1b[2J", "\x1b]0;owned\x07", "\x00", "\r", "\x9b31m", "\u202e", "\x7f"]


def hostile(rng: random.Random, base: dict[str, Any], text: str) -> str | bytes:
    """A mutation of the kinds an attacker would try: digits that are not ASCII, control
    characters and escapes in strings and keys, deep nesting, huge numbers; else one of
    ``mutate``'s."""
    kind = rng.choice(["digits", "controls", "nesting", "huge", "other"])
    if kind == "digits":  # an ASCII digit of the text, or of a name, made another script's
        at = rng.choice([i for i, c in enumerate(text) if c.isdigit()])
        return text[:at] + rng.choice(UNICODE_DIGITS) + text[at + 1:]
    if kind == "controls":
        document = copy.deepcopy(base)
        path = rng.choice(paths(document))
        parent = _get(document, path[:-1])
        value = parent[path[-1]]
        escape = rng.choice(CONTROLS)
        if isinstance(path[-1], str) and rng.random() < 0.3:  # in a key
            parent[path[-1] + escape] = parent.pop(path[-1])
        else:
            parent[path[-1]] = (value + escape if isinstance(value, str)
                                else escape + str(value))
        return json.dumps(document, ensure_ascii=rng.random() < 0.5)
    if kind == "nesting":  # a value replaced by [[[…]]] or {"a": {"a": …}}, deep
        depth = rng.choice([50, 1000, 100_000])
        nested = "[" * depth + "]" * depth if rng.random() < 0.5 else (
            '{"a":' * depth + "1" + "}" * depth)
        at = text.index(rng.choice(['"digits"', '"events"', '"edits"', '"cursor"',
                                    '"network"'])) if rng.random() < 0.7 else None
        if at is None:
            return nested
        colon = text.index(":", at) + 1
        return text[:colon] + nested + "," + text[colon:]
    if kind == "huge":
        numbers = [i for i, c in enumerate(text) if c.isdigit() and not text[i - 1].isalnum()
                   and text[i - 1] not in '."\\-']
        at = rng.choice(numbers)
        return text[:at] + rng.choice(["9" * 5000, "1e99999", "-" + "9" * 400, "1" * 4301])
    return mutate(rng, base, text)[: rng.randrange(1, 10**6)]


def test_a_seeded_sweep_of_hostile_documents_is_refused_in_one_line(tmp_path) -> None:
    """320 hostile documents, loaded as --resume does and found as a plain start finds
    last-session.json: each loads or is refused in one line naming the file; none reaches
    an error no check foresaw (find_last's last resort), none prints a control character."""
    from backprop_tui.session.autosave import find_last

    base = sweep_base()
    text = json.dumps(base, indent=1, ensure_ascii=False)
    rng = random.Random(12)
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(320):
        data = hostile(rng, base, text)
        session = loaded_or_refused(case, data, "hostile.json")
        if session is None:
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
            assert 1 <= session.epoch <= MAX_EPOCH
            exported(session, "txt").encode("utf-8")
        if case % 4 == 0:  # the same bytes as last-session.json, found at a plain start
            saved = tmp_path / f"{case}" / "last-session.json"
            saved.parent.mkdir()
            saved.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8",
                                                                               "surrogatepass"))
            last = find_last(saved)
            assert last is not None
            if last.session is None:
                assert last.problem and "cannot be resumed: " not in last.problem, (case,
                                                                                    last.problem)
                assert last.kept is not None and last.kept.exists() and not saved.exists()
    assert outcomes["loaded"] > 10 and outcomes["refused"] > 150, outcomes


# The optimiser's state in the checkpoint ---------------------------------------------------


def stepped(network: Network, epochs: int) -> Network:
    """The network after ``epochs`` epochs, each stepped from the trace of the one before."""
    for _ in range(epochs):
        network = trace_epoch(network).after
    return network


def optimised(name: str, examples: int, epoch: int, index: int) -> Session:
    """A session of test_state_outputs' network under optimiser ``name``, its cursor at
    ``index`` of epoch ``epoch`` (reached step by step and by a fast-forward)."""
    session = Session(parse_network(network_text(name, examples), "net.toml"))
    if epoch > 2:
        assert session.fast_forward(epoch - 2)
    assert session.next_epoch() and (session.goto(index) or index == 0)
    assert (session.epoch, session.index) == (epoch, index)
    return session


def saved(session: Session) -> str:
    """The session as the app saves it (no step records)."""
    return "".join(dump_session(session, [], [], NOW))


def assert_same_state(ours: Network, theirs: Network) -> None:
    """The very same state: t, and every slot's numbers to the last bit."""
    assert ours.updates == theirs.updates
    assert ours.state is not None and theirs.state is not None
    for part in ("weights", "biases"):
        mine, other = getattr(ours.state, part), getattr(theirs.state, part)
        assert mine.keys() == other.keys()
        for slot in mine:
            for a, b in zip(mine[slot], other[slot], strict=True):
                np.testing.assert_array_equal(a, b)
    assert ours.state_document() == theirs.state_document()


@pytest.mark.parametrize(("name", "examples", "epoch", "index"), [
    ("momentum", 1, 4, 7), ("nesterov", 1, 3, 0), ("adam", 1, 5, 20), ("adam", 3, 3, 40),
    ("momentum", 3, 4, 12)])
def test_a_resume_restores_the_optimisers_state_exactly(name: str, examples: int, epoch: int,
                                                        index: int) -> None:
    session = optimised(name, examples, epoch, index)
    updates = (epoch - 1) * len(session.network.batches())
    assert session.network.updates == updates  # not at rest: t counts every update
    text = saved(session)
    assert json.loads(text)["checkpoint"]["state"]["t"] == updates
    resumed = load_session(text, "saved.json")
    assert resumed.state == session.state
    assert_same_state(resumed.network, session.network)
    # and the state is the one stepping reaches (the fast path agrees to 1e-12)
    reached = stepped(session.base, epoch - 1).state_document()
    assert reached is not None
    for slot in OPTIMIZERS[name].slots:
        for part in ("weights", "biases"):
            np.testing.assert_allclose(flat(resumed.network.state_document()[slot][part]),
                                       flat(reached[slot][part]), rtol=1e-12, atol=1e-15)
    assert saved(resumed) == text


def test_an_edit_of_update_biases_restarts_the_state_and_a_resume_keeps_that() -> None:
    """Momentum on the tutorial, biases updated from epoch 3: the state starts again at
    zero there (t counts from it) and the biases have a velocity from then on."""
    session = Session(load_preset("mazur-momentum"))
    assert session.next_epoch() and session.next_epoch()
    assert session.edit("update_biases", True)
    assert session.network.state is None  # at rest: the edit restarted it
    assert session.next_epoch() and session.next_epoch() and session.goto(9)
    state = session.network.state_document()
    assert session.network.updates == 2 and state is not None
    assert all(isinstance(b, float) and b != 0 for b in state["v"]["biases"])
    resumed = load_session(saved(session), "saved.json")
    assert_same_state(resumed.network, session.network)


def version_1(document: dict[str, Any]) -> dict[str, Any]:
    """A document as version 1 wrote it: no saved starts but the cursor's, no history."""
    del document["checkpoints"], document["history"]
    return {**document, "version": 1}


def with_stepped_checkpoint(session: Session) -> tuple[dict[str, Any], Network]:
    """The session's version 1 document with the checkpoint (network and state) that
    stepping reaches, whatever the fast path gives; and that network."""
    document = version_1(json.loads(saved(session)))
    reached = stepped(session.base, session.epoch - 1)
    state = reached.state_document()
    assert state is not None
    document["checkpoint"].update(network=reached.to_document(),
                                  state={**state, "t": reached.updates})
    return document, reached


def test_a_resume_past_max_checked_runs_nothing_and_restores_the_state(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The tutorial under Adam at epoch 2,002: its checkpoint is trusted, not checked."""
    session = Session(load_preset("mazur-adam"))
    assert session.fast_forward(persist.MAX_CHECKED + 1) and session.goto(4)
    assert session.epoch - 1 > persist.MAX_CHECKED and session.network.updates == 2001
    ran = counted_runs(monkeypatch)
    resumed = load_session(json.dumps(version_1(json.loads(saved(session)))), "far.json")
    assert sum(ran) == 0 and resumed.state == session.state
    assert_same_state(resumed.network, session.network)


def counted_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The epochs each run of the timeline runs, from now on."""
    ran: list[int] = []
    original = timeline.run_epochs

    def counting(network: Network, count: int, **options: Any) -> Any:
        ran.append(count)
        return original(network, count, **options)

    monkeypatch.setattr(timeline, "run_epochs", counting)
    return ran


def trusted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Checkpoints from epoch 3 on are trusted, not checked; the epochs any resume runs."""
    monkeypatch.setattr(persist, "MAX_CHECKED", 1)
    return counted_runs(monkeypatch)


@pytest.mark.parametrize(("name", "examples"), [("momentum", 1), ("adam", 3)])
def test_a_trusted_checkpoint_gives_its_state_exactly(monkeypatch: pytest.MonkeyPatch,
                                                      name: str, examples: int) -> None:
    """Beyond MAX_CHECKED the checkpoint's state is the state: nothing is run, and the
    numbers come back to the last bit (here a stepped network's, written by hand)."""
    session = optimised(name, examples, 4, 3)
    document, reached = with_stepped_checkpoint(session)
    ran = trusted(monkeypatch)
    resumed = load_session(json.dumps(document), "far.json")
    assert sum(ran) == 0 and resumed.state == session.state
    assert_same_state(resumed.network, reached)
    assert resumed.network.updates == 3 * len(reached.batches())  # 3 epochs of 1 or 2
    assert json.loads(saved(resumed))["checkpoint"] == document["checkpoint"]


def test_a_checkpoint_near_the_start_must_follow_state_included() -> None:
    """Within MAX_CHECKED the state is checked against the epochs it stands for."""
    session = optimised("adam", 1, 4, 2)
    document = json.loads(saved(session))
    assert load_session(json.dumps(document), "s.json").state == session.state
    for change in ("value", "t"):
        wrong = copy.deepcopy(document)
        state = wrong["checkpoint"]["state"]
        if change == "value":
            state["m"]["weights"][1][0][1] *= 1.001
        else:
            state["t"] -= 1
        with pytest.raises(SessionFileError) as caught:
            load_session(json.dumps(wrong), "s.json")
        assert "does not follow from the network and its edits" in one_line(str(caught.value))


def test_a_checkpoint_without_a_state_under_sgd_resumes_as_before() -> None:
    """Files written before optimisers have no "state": sgd keeps none, so they resume."""
    document = copy.deepcopy(BASE)
    assert document["checkpoint"]["state"] is None
    del document["checkpoint"]["state"]
    assert load_session(json.dumps(document), "old.json").state == load_session(
        VALID, "new.json").state


STATE_BASE = with_stepped_checkpoint(optimised("adam", 3, 3, 0))[0]  # t = 4
StateDocument = dict[str, Any]


def hostile_state(change: Callable[[StateDocument], Any]) -> str:
    """STATE_BASE, its checkpoint's state replaced by ``change`` of a copy of it."""
    document = copy.deepcopy(STATE_BASE)
    document["checkpoint"]["state"] = change(document["checkpoint"]["state"])
    return json.dumps(document)


def put(*path: str | int, value: Any) -> Callable[[StateDocument], StateDocument]:
    """A change that sets the value at ``path`` (None: deletes it)."""
    def change(state: StateDocument) -> StateDocument:
        parent: Any = state
        for key in path[:-1]:
            parent = parent[key]
        if value is None:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return state
    return change


HOSTILE_STATES: dict[str, tuple[str, str]] = {
    "null": (hostile_state(lambda s: None),
             'it must be {"m": {"weights": …, "biases": …}, "s": {"weights": …, "biases": …}, '
             '"t": n}'),
    "a list": (hostile_state(lambda s: [s["m"], s["s"]]), "it must be"),
    "momentum's slots": (hostile_state(lambda s: {"v": s["m"], "t": 4}), "it must be"),
    "no s": (hostile_state(put("s", value=None)), "it must be"),
    "no t": (hostile_state(put("t", value=None)), "it must be"),
    "an extra slot": (hostile_state(put("v", value={"weights": [], "biases": []})),
                      "it must be"),
    "m without biases": (hostile_state(put("m", "biases", value=None)), "it must be"),
    "t -1": (hostile_state(put("t", value=-1)),
             "t must be a whole number from 0 to 4 (the updates before epoch 3)"),
    "t past the updates": (hostile_state(put("t", value=5)), "t must be a whole number"),
    "t 2.5": (hostile_state(put("t", value=2.5)), "t must be a whole number"),
    "t true": (hostile_state(put("t", value=True)), "t must be a whole number"),
    "t '4'": (hostile_state(put("t", value="4")), "t must be a whole number"),
    "t 10**30": (hostile_state(put("t", value=10**30)), "t must be a whole number"),
    "a layer missing": (hostile_state(put("m", "weights", 1, value=None)),
                        "m.weights must have one entry per layer (2)"),
    "a short row": (hostile_state(put("s", "weights", 0, 1, 2, value=None)),
                    "s.weights must be shaped like the network's weights, in numbers"),
    "a row too many": (hostile_state(put("m", "weights", 1, value=[[0.1, 0.2], [0.3, 0.4]])),
                       "m.weights must be shaped like"),
    "a text number": (hostile_state(put("m", "weights", 0, 0, 0, value="0.1")),
                      "m.weights must be shaped like"),
    "a true number": (hostile_state(put("m", "weights", 0, 0, 0, value=True)),
                      "m.weights must be shaped like"),
    "a null bias state": (hostile_state(put("m", "biases", value=[None, None])),
                          "m.biases must be shaped like the network's biases"),
    "a shared bias as two": (hostile_state(put("s", "biases", 1, value=[0.1, 0.2])),
                             "s.biases must be shaped like"),
    "per-unit biases as one": (hostile_state(put("s", "biases", 0, value=0.1)),
                               "s.biases must be shaped like"),
    "a huge whole number": (hostile_state(put("m", "weights", 0, 1, 2, value=10**400)),
                            "its numbers must be finite"),
    "1e400": (hostile_state(put("m", "biases", 1, value=12345.5)).replace("12345.5", "1e400"),
              "its numbers must be finite"),
    "a negative s": (hostile_state(put("s", "weights", 1, 0, 0, value=-1e-9)),
                     "s, a running mean of squares, must not be negative"),
    "a negative s bias": (hostile_state(put("s", "biases", 1, value=-0.5)),
                          "must not be negative"),
    "values at t = 0": (hostile_state(put("t", value=0)),
                        "at t = 0 (no update yet) every value must be 0"),
}


@pytest.mark.parametrize("name", list(HOSTILE_STATES))
def test_a_hostile_state_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                name: str) -> None:
    trusted(monkeypatch)  # the state is read for what it says, not recomputed
    data, expected = HOSTILE_STATES[name]
    with pytest.raises(SessionFileError) as caught:
        load_session(data, "hostile.json")
    message = one_line(str(caught.value))
    assert message.startswith('hostile.json: "checkpoint.state" is not a state of optimizer '
                              '"adam" on this network: '), message
    assert expected in message, message


def test_the_hostile_states_base_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    trusted(monkeypatch)
    resumed = load_session(json.dumps(STATE_BASE), "base.json")
    assert resumed.network.updates == 4
    assert {**resumed.network.state_document(), "t": 4} == STATE_BASE["checkpoint"]["state"]


def test_a_state_where_none_belongs_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """sgd keeps no state; with biases fixed, a bias has none."""
    trusted(monkeypatch)
    document = copy.deepcopy(BASE)
    document["checkpoint"]["state"] = {"v": {"weights": [], "biases": []}, "t": 0}
    with pytest.raises(SessionFileError) as caught:
        load_session(json.dumps(document), "sgd.json")
    assert 'is not null: the network\'s optimizer is "sgd"' in one_line(str(caught.value))
    session = Session(load_preset("mazur-adam"))
    assert session.next_epoch() and session.next_epoch()
    document = json.loads(saved(session))
    document["checkpoint"]["state"]["m"]["biases"] = [0.0, 0.0]
    with pytest.raises(SessionFileError) as caught:
        load_session(json.dumps(document), "fixed.json")
    assert "m.biases must be null for every layer: biases stay fixed" in one_line(
        str(caught.value))


@pytest.mark.parametrize(("name", "examples"), [("adam", 3), ("nesterov", 1)])
def test_a_json_export_of_an_optimiser_session_resumes_to_the_same_logs(
        tmp_path: Any, capsys: pytest.CaptureFixture[str], name: str, examples: int) -> None:
    """`export --format json`, then `--resume` it: the same state, the same Markdown to the
    byte, and the JSON lines' header holds the same checkpoint."""
    session = optimised(name, examples, 3, 11)
    assert session.edit("learning_rate", 0.05)  # an edit keeps the state the epoch started with
    assert session.next_epoch() and session.goto(5)
    first = tmp_path / "first.json"
    first.write_text(exported(session), encoding="utf-8")
    resumed = load_session(first.read_text("utf-8"), "first.json")
    assert_same_state(resumed.network, session.network)
    assert resumed.network.updates == 3 * len(session.network.batches())
    assert exported(resumed, "md") == exported(session, "md")
    header = json.loads(exported(session, "jsonl").splitlines()[0])
    assert header["checkpoint"] == json.loads(first.read_text("utf-8"))["checkpoint"]
    markdown = tmp_path / "resumed.md"
    status, out, err = export_resumed(capsys, str(first), str(markdown), "md")
    assert (status, out, err) == (0, "", "")
    when = re.compile(r"^- \*\*Exported:\*\* .*$", re.MULTILINE)  # the time it was written
    assert when.sub("", markdown.read_text("utf-8")) == when.sub("", exported(session, "md"))


def test_a_seeded_sweep_of_damaged_states_loads_or_is_refused_in_one_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """STATE_BASE with one to three places in its state deleted or swapped for odd values:
    each loads (and saves again) or is refused in one line naming the file."""
    trusted(monkeypatch)
    rng = random.Random(15)
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(300):
        document = copy.deepcopy(STATE_BASE)
        state = document["checkpoint"]["state"]
        for _ in range(rng.randint(1, 3)):
            places = paths(state)
            if not places:
                break
            path = rng.choice(places)
            parent = _get(state, path[:-1])
            if rng.random() < 0.3:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        session = loaded_or_refused(case, json.dumps(document), "damaged.json")
        if session is None:
            outcomes["refused"] += 1
            continue
        outcomes["loaded"] += 1
        # Saved again (version 2), the state is checked against the epochs before it.
        again = loaded_or_refused(case, saved(session), "again.json")
        assert again is None or again.state == session.state
    assert outcomes["loaded"] > 10 and outcomes["refused"] > 200, outcomes


# A log bigger than what a resume keeps ------------------------------------------------


def test_a_resume_reads_past_a_log_bigger_than_max_bytes(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path) -> None:
    """The log (steps, epochs) is read one record at a time and dropped: MAX_BYTES bounds
    what is kept, not the file (a 10,000-epoch export is 420 MB)."""
    session = edited_session()
    text = exported(session)
    path = tmp_path / "big.json"
    path.write_text(text, encoding="utf-8")
    head = len("".join(dump_session(session, [], [], NOW)))
    monkeypatch.setattr(persist, "MAX_BYTES", head + 100)
    assert len(text) > 10 * persist.MAX_BYTES
    resumed = persist.read_session(path)
    assert exported(resumed) == text
    monkeypatch.setattr(persist, "MAX_BYTES", head - 100)  # what is kept is still bounded
    with pytest.raises(SessionFileError) as caught:
        persist.read_session(path)
    assert f"more than {head - 100:,} bytes besides its log" in one_line(str(caught.value))


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_a_session_read_in_pieces_of_any_size_is_the_session_read_whole(
        monkeypatch: pytest.MonkeyPatch, tmp_path, chunk: int) -> None:
    """Pieces end anywhere: inside a string, a record, a number (2|4, 0.|25) or a BOM."""
    session = Session(load_preset("mazur"))
    assert session.edit("eta", 0.25) and session.next_epoch() and session.goto(24)
    text = "\ufeff" + exported(session)
    path = tmp_path / "pieces.json"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(persist, "CHUNK", chunk)
    assert exported(persist.read_session(path)) == text[1:]
    path.write_text(text + " x", encoding="utf-8")  # still one JSON document, nothing after
    with pytest.raises(SessionFileError) as caught:
        persist.read_session(path)
    assert "not valid JSON: extra data after the document: 'x'" in one_line(str(caught.value))


def test_a_cut_off_file_says_where_in_the_file_and_an_empty_one_says_so(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Read in pieces, the message still counts characters from the file's start; an empty
    file is named as such."""
    session = Session(load_preset("mazur"))
    assert session.next_epoch() and session.next_epoch()
    whole = exported(session)
    cut = len(whole) * 3 // 4
    path = tmp_path / "cut.json"
    path.write_text(whole[:cut], encoding="utf-8")
    monkeypatch.setattr(persist, "CHUNK", 4096)  # many pieces before the end
    with pytest.raises(SessionFileError) as caught:
        persist.read_session(path)
    position = int(str(caught.value).rsplit("character ", 1)[1].rstrip(")").replace(",", ""))
    assert cut - 4096 < position <= cut
    path.write_text("", encoding="utf-8")
    with pytest.raises(SessionFileError, match="the file is empty"):
        persist.read_session(path)
