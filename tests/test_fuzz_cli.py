"""The command line against damaged network files: a seeded sweep of mutated presets.

Network files are written by hand, so `train` and `export` must answer whatever arrives (a
key deleted or of the wrong type, ragged or empty arrays, nan, infinities and 1e308, broken
TOML, bytes that are not UTF-8, unknown keys, two of these at once) with exit status 0; 2 and
one line on stderr naming the file and the problem; or 3 and one line saying where training
diverged. Never a traceback, a warning or a second line. tests/test_netfile.py sweeps the
parser alone; this sweeps the whole command, training and output included.

Each case is built from its number alone (`random.Random(f"fuzz-cli-{number}")`), so a failure
names a case that `make_case(number)` rebuilds. Mutations act on the parsed document (written
back as TOML) or on the file's text and bytes; where a mutation's verdict is certain (a
required key deleted, a non-UTF-8 byte) the case also checks that verdict and its wording.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import tomllib
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from random import Random

import pytest
from backprop_tui.cli import main
from backprop_tui.functions import ACTIVATIONS, LOSSES, OPTIMIZERS
from backprop_tui.netfile import classifier_problem
from backprop_tui.network import MAX_LAYERS, MAX_UNITS, OPTIMIZER_OPTIONS, OPTIONS
from backprop_tui.presets import PRESETS, preset_text

REPO = pathlib.Path(__file__).parents[1]
CASES = 500
CHUNK = 50
EPOCHS = "3"
INVALID_TOML = "invalid TOML"
NOT_UTF8 = "not UTF-8"
# Every refusal names a key, or says the file is not TOML or not UTF-8.
PROBLEM = re.compile(r"\bkey '|\b" + INVALID_TOML + r": |\b" + NOT_UTF8 + r" text: ")
SEEDS = {name: tomllib.loads(preset_text(name)) for name in PRESETS}

KeyPath = tuple[str | int, ...]  # where a value sits in a document: ("layer", 0, "weights", 1)
Document = dict[str, object]


@dataclass(frozen=True)
class Change:
    """One mutation, and the verdict it makes certain on an otherwise valid file, if any."""

    description: str
    accept: bool = False  # the file must still load (exit 0, or 3 if training diverges)
    refuse: str | None = None  # the file must be refused (exit 2) with this in the message
    harmless: bool = False  # a change of form only, that leaves any problem as it was

    def then(self, other: Change) -> Change:
        """Two changes in order. The second's verdict holds if the file was valid before it,
        the first's if the second only changes form; a file that is not TOML or not UTF-8
        stays so whatever it holds. Otherwise the second may have undone the first."""
        description = f"{self.description} + {other.description}"
        if self.accept:
            return replace(other, description=description)
        if other.harmless:
            return replace(self, description=description)
        if other.refuse in (INVALID_TOML, NOT_UTF8):
            return Change(description, refuse=other.refuse)
        return Change(description)


@dataclass(frozen=True)
class Case:
    number: int
    command: tuple[str, ...]
    data: bytes
    change: Change

    def __str__(self) -> str:
        return f"case {self.number} ({' '.join(self.command)}): {self.change.description}"


# --- writing documents back as TOML --------------------------------------------------------

def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def toml_value(value: object) -> str:
    """Any value a mutated document holds, nan, infinities, tables and dates included."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # inf, -inf, 1e+308: all TOML
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    assert isinstance(value, datetime.date), value
    return value.isoformat()


def toml_document(document: Document) -> str:
    """Top-level keys first, then a [[layer]] table per layer (inline if not all tables)."""
    layers = document.get("layer")
    tables = isinstance(layers, list) and bool(layers) and all(isinstance(t, dict) for t in layers)
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in document.items()
             if not (tables and k == "layer")]
    for table in layers if tables else []:
        lines += ["", "[[layer]]", *(f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


# --- mutations of the parsed document ------------------------------------------------------

def nodes(value: object, path: KeyPath = ()) -> list[tuple[KeyPath, object]]:
    """Every value inside a document with its path, containers before their contents."""
    found: list[tuple[KeyPath, object]] = [(path, value)] if path else []
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, child in items:
        found += nodes(child, (*path, key))
    return found


def spell(path: KeyPath) -> str:
    return str(path[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])


def where(path: KeyPath) -> str:
    """How the message names the key a path is in: "key 'inputs'", "layer 2, key 'bias'"."""
    if path[0] == "layer" and len(path) >= 3:
        return f"layer {int(path[1]) + 1}, key {path[2]!r}"
    if path[0] == "printed" and len(path) >= 2:
        return f"printed, key {path[1]!r}"
    return f"key {path[0]!r}"


def put(document: Document, path: KeyPath, value: object) -> None:
    parent: object = document
    for key in path[:-1]:
        parent = parent[key]  # type: ignore[index]
    parent[path[-1]] = value  # type: ignore[index]


def tables(document: Document) -> list[tuple[KeyPath, dict[str, object]]]:
    """The document and each of its layer tables, with their paths."""
    layers = document.get("layer")
    found: list[tuple[KeyPath, dict[str, object]]] = [((), document)]
    if isinstance(layers, list):
        found += [(("layer", i), t) for i, t in enumerate(layers) if isinstance(t, dict)]
    return found


def kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "list", dict: "table"}.get(type(value), "date")


SAMPLES: dict[str, list[object]] = {
    "number": [3, -1.5, 0],
    "string": ["0.5", "", "sigmoid", "nan"],
    "boolean": [True, False],
    "list": [[], [1.0], [[0.1, 0.2]], ["x"]],
    "table": [{}, {"value": 0.5}],
    "date": [datetime.date(2024, 1, 1)],
}
ODD_NUMBERS: list[float | int] = [math.nan, math.inf, -math.inf, 10**400, -(10**400),
                                  1e308, -1e308, 1e300, 5e-324, -0.0]
TOP_NAMES = ["learning-rate", "Inputs", "layers", "weights", "", "a\nb", "épsilon", "\u2028"]
LAYER_NAMES = ["weight", "Bias", "units", "inputs", "learning_rate", "loss", "layer", "x y"]
CHOICES = {  # options with named values: some valid, some near misses
    "loss": (["half_sse", "mse", "cross_entropy"], ["MSE", "half-sse", "", "crossentropy"]),
    "update_order": (["after_backward", "during_backward"], ["after", "during_backward "]),
    "activation": (["sigmoid", "tanh", "relu", "linear", "softmax"],
                   ["Sigmoid", "soft_max", "relu\n"]),
    "update_biases": ([True, False], ["true", 1]),
    "optimizer": (list(OPTIMIZERS), ["Adam", "sgd ", "rmsprop", ""]),
}
# An optimiser's option: values inside its range, on its edges, and outside it.
OPTIMIZER_VALUES: list[float | int] = [0, 0.0, -0.0, 0.5, 0.9, 0.999, 1, 1.0, 1.5, -0.1, 1e-8,
                                       5e-324, 1e300]
REQUIRED = ("inputs", "targets", "layer", "weights")
OPTIONAL = {(): (*OPTIONS, *OPTIMIZER_OPTIONS), ("layer",): ("bias", "activation")}


def delete_key(document: Document, rng: Random) -> Change | None:
    path, table = rng.choice(tables(document))
    if not table:
        return None
    key = rng.choice(list(table))
    del table[key]
    spot = (*path, key)
    if key in REQUIRED:
        return Change(f"deleted {spell(spot)}", refuse=f"{where(spot)}: missing")
    if not path and key in OPTIONAL[()]:  # its default now holds: the rules judge it
        return judged(f"deleted {spell(spot)}", document)
    return Change(f"deleted {spell(spot)}", accept=key in OPTIONAL[path[:1]])


def change_type(document: Document, rng: Random) -> Change | None:
    path, value = rng.choice(nodes(document))
    new = copy.deepcopy(rng.choice(SAMPLES[rng.choice([k for k in SAMPLES if k != kind(value)])]))
    put(document, path, new)
    described = f"{spell(path)} = {toml_value(new)} (was {kind(value)})"
    if path[-1] == "bias" or path[0] == "printed":  # a number or a list (a bias) or a table
        return Change(described)  # (a printed value): either may be right
    return Change(described, refuse=where(path))


def reshape(document: Document, rng: Random) -> Change | None:
    arrays = [(p, v) for p, v in nodes(document) if isinstance(v, list) and v]
    if not arrays:
        return None
    path, array = rng.choice(arrays)
    assert isinstance(array, list)
    how = rng.choice(["drop", "add", "empty", "nest", "unwrap", "flatten", "ragged", "oversize"])
    limit = MAX_LAYERS if path == ("layer",) else MAX_UNITS
    if how == "drop":
        del array[rng.randrange(len(array))]
    elif how == "add":
        array.insert(rng.randrange(len(array) + 1), copy.deepcopy(rng.choice(array)))
    elif how == "empty":
        array.clear()
    elif how == "nest":
        array[:] = [[item] for item in array]
    elif how == "unwrap":
        put(document, path, array[0])
    elif how == "flatten" and all(isinstance(item, list) for item in array):
        array[:] = [x for item in array for x in item]
    elif how == "ragged" and all(isinstance(item, list) and item for item in array):
        row = rng.choice(array)
        if rng.random() < 0.5:
            row.append(row[0])
        else:
            row.pop()
    elif how == "oversize":
        array[:] = [copy.deepcopy(array[i % len(array)]) for i in range(limit + 1)]
    else:
        return None
    described = f"{spell(path)} {how}"
    if len(path) == 1 and (how == "flatten" or how == "unwrap" and isinstance(array[0], list)):
        # rows of examples made one flat list, or the first row alone: one example, a shape
        # of its own, refused where the sizes first disagree (the first layer's weights, or
        # the targets' rows)
        return Change(described, refuse="")
    certain = how in ("empty", "nest", "flatten", "ragged", "oversize") or (
        how == "unwrap" and path[-1] != "bias") or (
        how in ("drop", "add") and (path[-1] in ("targets", "bias") or len(path) == 4))
    if how == "unwrap" and path == ("inputs",):  # one example's inputs: the targets' rows
        return Change(described, refuse="'inputs'")  # no longer match them
    return Change(described, refuse=where(path) if certain else None)


def odd_number(document: Document, rng: Random) -> Change | None:
    numbers = [p for p, v in nodes(document) if kind(v) == "number"]
    if not numbers:
        return None
    path = rng.choice(numbers)
    value = rng.choice(ODD_NUMBERS)
    put(document, path, value)
    described = f"{spell(path)} = {toml_value(value)[:12]}"
    finite = math.isfinite(value) if isinstance(value, float) else abs(value) < 1e308
    if finite and path[0] in OPTIMIZER_OPTIONS:  # inside its range or not
        return judged(described, document)
    return Change(described, refuse=None if finite else "expected a finite number")


def unknown_key(document: Document, rng: Random) -> Change | None:
    path, table = rng.choice(tables(document))
    key = rng.choice(LAYER_NAMES if path else TOP_NAMES)
    if key in table:
        return None
    table[key] = rng.choice([0.5, "x", [1.0, 2.0]])
    refuse = f"layer {int(path[1]) + 1}, key {key!r}" if path else \
        f"key {key!r}: unknown top-level key"
    return Change(f"added key {key!r} to {spell(path) if path else 'the top level'}",
                  refuse=refuse)


def set_choice(document: Document, rng: Random) -> Change | None:
    spots = [(p, k) for p, t in tables(document) for k in CHOICES if k in t]
    if not spots:
        return None
    path, key = rng.choice(spots)
    valid, wrong = CHOICES[key]
    good = rng.random() < 0.6
    value = rng.choice(valid if good else wrong)
    put(document, (*path, key), value)
    described = f"{spell((*path, key))} = {toml_value(value)}"
    if not good:
        return Change(described, refuse=where((*path, key)))
    return judged(described, document)


def set_optimizer(document: Document, rng: Random) -> Change | None:
    """Any network trained by an optimiser, perhaps with an option of its own, of another
    optimiser, or out of range."""
    document["optimizer"] = name = rng.choice(list(OPTIMIZERS))
    described = f"optimizer = {name!r}"
    if rng.random() < 0.7:
        key, value = rng.choice(OPTIMIZER_OPTIONS[1:]), rng.choice(OPTIMIZER_VALUES)
        document[key] = value
        described += f", {key} = {value!r}"
    return judged(described, document)


def judged(described: str, document: Document) -> Change:
    """A valid document's change, judged by the rules across keys."""
    rules = network_rules(document)
    if rules is None:  # an earlier mutation left no network to judge
        return Change(described)
    return Change(described, refuse=rules) if rules else Change(described, accept=True)


def network_rules(document: Document) -> str | None:
    """What the document breaks of the rules across keys, as the refusal says it, in the
    order the file's checks meet them: the optimiser's options, the classifiers' rules, then
    update_order = "during_backward" with an optimiser but sgd. '' if nothing; None if there
    is nothing to judge."""
    for rules in (optimizer_rules, classifier_rules):
        found = rules(document)
        if found != "":
            return found
    if document.get("update_order") == "during_backward" and document.get(
            "optimizer", "sgd") != "sgd":
        return "key 'update_order': \"during_backward\" goes with optimizer = \"sgd\" only"
    return ""


def optimizer_rules(document: Document) -> str | None:
    """What the optimiser's options break: an option of another optimiser, or a value out of
    its range (momentum and nesterov's μ from 0 to 1, above 0 for nesterov; β₁ and β₂ from 0
    to 1, 1 not included; ε above 0). '' if nothing; None if the optimiser is not one."""
    name = document.get("optimizer", "sgd")
    if not isinstance(name, str) or name not in OPTIMIZERS:
        return None
    for key in OPTIMIZER_OPTIONS[1:]:  # in the order the file's checks go
        if key not in document:
            continue
        if key not in OPTIMIZERS[name].options:
            return f"key {key!r}: an option of optimizer = "
        value = document[key]
        if kind(value) != "number":
            return f"key {key!r}: expected a number"
        low = 0.0 if key == "epsilon" or (key == "momentum" and name == "nesterov") else None
        high = math.inf if key == "epsilon" else 1.0
        if not (value > low if low is not None else value >= 0.0) or not value < high:
            return f"key {key!r}: expected a"
    return ""


def classifier_rules(document: Document) -> str | None:
    """What a valid choice of activation or loss breaks of the classifiers' rules (softmax
    on the output layer only, cross-entropy with the outputs and targets it takes), as the
    refusal says it: '' if nothing; None if the document holds no layers and targets to
    judge (a mutation before this one took them apart)."""
    layers, targets = document.get("layer"), document.get("targets")
    loss = document.get("loss", "half_sse")
    if not (isinstance(layers, list) and layers and isinstance(targets, list) and targets
            and isinstance(loss, str) and all(isinstance(t, dict) for t in layers)):
        return None
    activations = [t.get("activation", "sigmoid") for t in layers]
    rows = targets if isinstance(targets[0], list) else [targets]
    if not (all(a in ACTIVATIONS for a in activations) and loss in LOSSES
            and all(isinstance(r, list) and r and all(kind(t) == "number" for t in r)
                    for r in rows)):
        return None
    return classifier_problem(activations, loss, rows) or ""


def resize_hidden(document: Document, rng: Random) -> Change | None:
    """Give a hidden layer n units, the layer above n columns: valid up to MAX_UNITS."""
    layers = document.get("layer")
    if not isinstance(layers, list) or len(layers) < 2:
        return None
    k = rng.randrange(len(layers) - 1)
    below, above = layers[k], layers[k + 1]
    if not all(isinstance(t, dict) and isinstance(t.get("weights"), list) and t["weights"]
               and isinstance(t["weights"][0], list) for t in (below, above)):
        return None
    n = rng.choice([1, 5, 16, 40, 64, 64, MAX_UNITS + 1])
    fan_in = len(below["weights"][0])
    below["weights"] = [[round(rng.uniform(-1, 1), 3) for _ in range(fan_in)] for _ in range(n)]
    if isinstance(below.get("bias"), list):
        below["bias"] = [0.1] * n
    above["weights"] = [[round(rng.uniform(-1, 1), 3) for _ in range(n)] for _ in above["weights"]]
    described = f"layer[{k}] resized to {n} units"
    if n > MAX_UNITS:
        return Change(described, refuse=f"layer {k + 1}, key 'weights'")
    # Printed values name steps by unit and weight: a new shape may leave some nameless.
    return Change(described, accept=True if "printed" not in document else None)


def extreme_rate(document: Document, rng: Random) -> Change | None:
    """A learning rate far too large, or tiny: valid, and a large one may make training
    diverge (exit 3)."""
    value = rng.choice([1e308, 1e200, 1e100, 1e6, 5e-324])
    document["learning_rate"] = value
    return Change(f"learning_rate = {value!r}", accept=True)


DocumentMutation = Callable[[Document, Random], Change | None]
DOCUMENT_MUTATIONS: list[DocumentMutation] = [
    delete_key, change_type, change_type, reshape, reshape, odd_number, odd_number,
    unknown_key, set_choice, set_optimizer, resize_hidden, extreme_rate, extreme_rate,
]


# --- mutations of the text and the bytes ---------------------------------------------------

TextEdit = tuple[str, Change]


def edit_line(text: str, pattern: str, rng: Random, edit: Callable[[str], list[str]],
              change: Callable[[int], Change]) -> TextEdit | None:
    """Replace one line that matches pattern outside its comment by edit(line)'s lines;
    change(its line number) says what was done."""
    lines = text.split("\n")
    found = [i for i, line in enumerate(lines) if re.search(pattern, line.split("#")[0])]
    if not found:
        return None
    i = rng.choice(found)
    lines[i:i + 1] = edit(lines[i])
    return "\n".join(lines), change(i + 1)


def truncate(text: str, rng: Random) -> TextEdit | None:
    if not text:
        return None
    cut = rng.randrange(len(text))
    return text[:cut], Change(f"truncated to {cut} characters")


def stray_bracket(text: str, rng: Random) -> TextEdit | None:
    if rng.random() < 0.5:  # an opener at the start of a line: no TOML statement starts so,
        bracket = rng.choice("[{")  # and it closes no array left open
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        lines[i] = bracket + lines[i]
        return "\n".join(lines), Change(f"{bracket!r} before line {i + 1}", refuse=INVALID_TOML)
    bracket, at = rng.choice("[]{}"), rng.randrange(len(text) + 1)
    return text[:at] + bracket + text[at:], Change(f"{bracket!r} inserted at {at}")


def duplicate_key(text: str, rng: Random) -> TextEdit | None:
    return edit_line(text, r"^\s*[^\s\[].*=", rng, lambda line: [line, line],
                     lambda n: Change(f"line {n} duplicated", refuse=INVALID_TOML))


def duplicate_header(text: str, rng: Random) -> TextEdit | None:
    """An empty layer: a [[layer]] written twice."""
    return edit_line(text, r"^\[\[layer\]\]", rng, lambda line: [line, line],
                     lambda n: Change(f"[[layer]] on line {n} duplicated",
                                      refuse="key 'weights': missing"))


def unclosed_string(text: str, rng: Random) -> TextEdit | None:
    return edit_line(text, r'=\s*"[^"]*"', rng,
                     lambda line: [re.sub(r'(=\s*"[^"]*)"', r"\1", line, count=1)],
                     lambda n: Change(f"string on line {n} left open", refuse=INVALID_TOML))


def unclosed_array(text: str, rng: Random) -> TextEdit | None:
    def drop_last_bracket(line: str) -> list[str]:
        code, hash_, comment = line.partition("#")
        end = code.rindex("]")
        return [code[:end] + code[end + 1:] + hash_ + comment]

    return edit_line(text, r"=\s*\[.*\]", rng, drop_last_bracket,
                     lambda n: Change(f"array on line {n} left open", refuse=INVALID_TOML))


def control_character(text: str, rng: Random) -> TextEdit | None:
    char = rng.choice("\x00\x7f\x1b")
    at = rng.randrange(len(text) + 1)
    return text[:at] + char + text[at:], Change(f"{char!r} inserted at {at}", refuse=INVALID_TOML)


NUMBER = r'(?<![\w."])-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w."])'
SPELLINGS = {  # TOML spellings of numbers, and the verdict each makes certain
    "1e400": "expected a finite number", "-1e400": "expected a finite number",
    "+inf": "expected a finite number", "-nan": "expected a finite number",
    "1" * 5000: INVALID_TOML,  # past int()'s digit limit, which tomllib lets escape
    "0x1F": None, "0b101": None, "0o17": None, "1_000.5": None, "+0.25": None, "1e-400": None,
    "18446744073709551616": None,
}


def number_spelling(text: str, rng: Random) -> TextEdit | None:
    """A number written another way: valid, beyond float range, non-finite or too long."""
    spelling = rng.choice(list(SPELLINGS))
    return edit_line(text, r"=.*" + NUMBER, rng,
                     lambda line: [re.sub(NUMBER, spelling, line, count=1)],
                     lambda n: Change(f"a number on line {n} written {spelling[:24]}",
                                      refuse=SPELLINGS[spelling]))


def deep_nesting(text: str, rng: Random) -> TextEdit | None:
    depth = rng.choice([2000, 20000])
    return edit_line(text, r"^\w+\s*=", rng,
                     lambda line: [line.split("=")[0] + "= " + "[" * depth + "]" * depth],
                     lambda n: Change(f"value on line {n} nested {depth} deep",
                                      refuse=INVALID_TOML))


def shuffle_lines(text: str, rng: Random) -> TextEdit | None:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if rng.random() < 0.5:
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines), Change(f"lines {i + 1} and {j + 1} swapped")
    del lines[i]
    return "\n".join(lines), Change(f"line {i + 1} deleted")


def harmless(text: str, rng: Random) -> TextEdit | None:
    how = rng.choice(["byte order mark", "CRLF line ends", "tabs around ="])
    if how == "byte order mark" and text.startswith("\ufeff"):
        return None  # a second one is not at the start of the file
    if how == "byte order mark":
        text = "\ufeff" + text
    elif how == "CRLF line ends":
        text = text.replace("\n", "\r\n")
    else:
        text = re.sub(r"^(\S+) = ", "\\1\t=\t", text, flags=re.MULTILINE)
    return text, Change(how, accept=True, harmless=True)


TextMutation = Callable[[str, Random], TextEdit | None]
TEXT_MUTATIONS: list[TextMutation] = [
    truncate, stray_bracket, duplicate_key, duplicate_header, unclosed_string, unclosed_array,
    control_character, number_spelling, number_spelling, deep_nesting, shuffle_lines, harmless,
]
BAD_BYTES = [b"\xff\xfe", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xfe"]


def not_utf8(text: str, rng: Random) -> tuple[bytes, Change]:
    """Always the last mutation: the text as bytes, no longer UTF-8."""
    data = text.encode("utf-8")
    how = rng.choice(["insert", "insert", "insert", "utf-16", "latin-1"])
    if how == "utf-16":
        return text.encode("utf-16"), Change("encoded as UTF-16", refuse=NOT_UTF8)
    if how == "latin-1":
        return data + "# café\n".encode("latin-1"), Change("Latin-1 comment", refuse=NOT_UTF8)
    bad, at = rng.choice(BAD_BYTES), rng.randrange(len(data) + 1)
    return data[:at] + bad + data[at:], Change(f"{bad!r} inserted at byte {at}", refuse=NOT_UTF8)


# --- the sweep -----------------------------------------------------------------------------

def make_case(number: int) -> Case:
    """One or two mutations of one preset: the document's first, then the text's, then
    (perhaps) the bytes'; tried again until every mutation drawn applies."""
    rng = Random(f"fuzz-cli-{number}")
    if rng.random() < 0.2:
        command: tuple[str, ...] = ("export", "--epochs", "2", "--format",
                                    rng.choice(["jsonl", "md", "txt", "json"]))
    else:
        command = ("train", "--epochs", EPOCHS)
    while True:
        name = rng.choice(list(PRESETS))
        levels = sorted(rng.choices(["document", "text", "bytes"], [6, 3, 1.5],
                                    k=rng.choice([1, 1, 2])),
                        key=["document", "text", "bytes"].index)
        if levels.count("bytes") > 1:
            continue
        document = copy.deepcopy(SEEDS[name])
        changes = [rng.choice(DOCUMENT_MUTATIONS)(document, rng)
                   for level in levels if level == "document"]
        text = toml_document(document) if changes else preset_text(name)
        for _ in range(levels.count("text")):
            done = rng.choice(TEXT_MUTATIONS)(text, rng)
            changes.append(done and done[1])
            text = done[0] if done else text
        data = text.encode()
        if "bytes" in levels:
            data, change = not_utf8(text, rng)
            changes.append(change)
        first, *rest = changes
        if first is not None and None not in rest:
            for other in rest:
                first = first.then(other)
            return Case(number, command, data,
                        replace(first, description=f"{name}: {first.description}"))


def one_line(err: str) -> bool:
    return err.endswith("\n") and len(err.splitlines()) == 1


def reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not JSON")


def written(command: tuple[str, ...], out: str) -> str | None:
    """What is wrong with what a command wrote to stdout (in full or up to a divergence)."""
    documents = [out] if command[0] == "train" or command[-1] == "json" else \
        out.splitlines() if command[-1] == "jsonl" else []
    try:
        results = [json.loads(document, parse_constant=reject_constant) for document in documents]
    except ValueError as error:
        return f"stdout is not strict JSON: {error}"
    if command[0] == "train" and not (out.count("\n") == 1 and isinstance(results[0], dict)
                                      and math.isfinite(results[0].get("loss_final", math.nan))):
        return f"stdout is not one JSON line with a finite loss: {out[:200]!r}"
    return None if out else "nothing written"


def verdict(case: Case, path: pathlib.Path, status: int, out: str, err: str,
            warned: list[str]) -> list[str]:
    """What is wrong with one run's outcome; nothing if it keeps the contract."""
    wrong = [f"warning printed: {message}" for message in warned]
    if "Traceback" in out + err:
        wrong.append("a traceback")
    train = case.command[0] == "train"
    if status == 0:
        if err:
            wrong.append("exit 0 with something on stderr")
        if problem := written(case.command, out):
            wrong.append(problem)
    elif status == 2:
        if out:
            wrong.append("exit 2 with something on stdout")
        if not (one_line(err) and err.startswith(f"backprop-tui: {path}: ")
                and PROBLEM.search(err)):
            wrong.append("exit 2 without one line naming the file and a key or the syntax")
    elif status == 3:
        if train and out:
            wrong.append("train exit 3 with something on stdout")
        if not train and (problem := written(case.command, out)):
            wrong.append(f"the steps before the divergence: {problem}")
        if not (one_line(err) and "diverged at epoch" in err):
            wrong.append("exit 3 without one line saying where it diverged")
    else:
        wrong.append("an exit status other than 0, 2 or 3")
    if case.change.accept and status == 2:
        wrong.append("a valid file refused")
    if case.change.refuse is not None and not (status == 2 and case.change.refuse in err):
        wrong.append(f"expected a refusal saying {case.change.refuse!r}")
    return wrong


def run_case(case: Case, folder: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> \
        tuple[int | None, list[str]]:
    """Run one case in-process: its exit status (None if main raised) and what went wrong."""
    path = folder / f"case-{case.number}.toml"
    path.write_bytes(case.data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = main([*case.command, "--config", str(path)])
        except (Exception, SystemExit) as error:  # main must return a status, never raise
            capsys.readouterr()
            frame = traceback.extract_tb(error.__traceback__)[-1]
            return None, [f"raised {type(error).__name__}: {error} "
                          f"({frame.filename}:{frame.lineno}, in {frame.name})"]
    out, err = capsys.readouterr()
    return status, verdict(case, path, status, out, err, [str(w.message) for w in caught])


# Exit statuses per chunk, kept so that the outcome count need not run a chunk again.
STATUSES: dict[int, list[int | None]] = {}


def sweep(chunk: int, folder: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Run one chunk's cases; every failure as one readable paragraph."""
    failures, STATUSES[chunk] = [], []
    for number in range(chunk * CHUNK, (chunk + 1) * CHUNK):
        case = make_case(number)
        status, wrong = run_case(case, folder, capsys)
        STATUSES[chunk].append(status)
        if wrong:
            failures.append(f"{case}\n    exit {status}: {'; '.join(wrong)}")
    return failures



@pytest.mark.parametrize("chunk", range(CASES // CHUNK))
def test_mutated_files_exit_0_2_or_3_with_one_line(
    chunk: int, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failures = sweep(chunk, tmp_path, capsys)
    assert not failures, f"{len(failures)} of {CHUNK} cases broke the contract:\n" + \
        "\n".join(failures)


def test_sweep_reaches_every_outcome(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sweep where every case fails to parse, or none does, would prove little."""
    for chunk in range(CASES // CHUNK):
        if chunk not in STATUSES:
            sweep(chunk, tmp_path, capsys)
    counts = Counter(status for statuses in STATUSES.values() for status in statuses)
    assert sum(counts.values()) == CASES
    assert counts[0] >= 50 and counts[2] >= 200 and counts[3] >= 5, counts


def test_cases_depend_on_their_number_alone() -> None:
    """A failing case can be rebuilt: no mutation leaks into the presets' documents. And
    enough cases carry a certain verdict for the wording of messages to be checked."""
    sample = [make_case(n) for n in range(0, CASES, 37)]
    cases = [make_case(n) for n in range(CASES)]
    assert [make_case(n) for n in range(0, CASES, 37)] == sample == cases[::37]
    assert SEEDS == {name: tomllib.loads(preset_text(name)) for name in PRESETS}
    verdicts = Counter("accept" if c.change.accept else "refuse" if c.change.refuse else "any"
                       for c in cases)
    assert verdicts["accept"] >= 50 and verdicts["refuse"] >= 200, verdicts


# --- a real process ------------------------------------------------------------------------

TANH_LINEAR = preset_text("tanh-linear")


@pytest.mark.parametrize(("data", "status", "message"), [
    (TANH_LINEAR.replace('"mse"', '"mse').encode(), 2, "invalid TOML"),
    (TANH_LINEAR.encode().replace(b"targets", b"\xff\xfetargets"), 2, "not UTF-8"),
    (TANH_LINEAR.replace("learning_rate = 0.1", "learning_rate = 1e308").encode(), 3,
     "diverged at epoch 1"),
], ids=["broken-toml", "not-utf8", "diverging"])
def test_real_process_prints_one_line(
    tmp_path: pathlib.Path, data: bytes, status: int, message: str
) -> None:
    path = tmp_path / "net.toml"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-m", "backprop_tui", "train", "--epochs", EPOCHS, "--config", str(path)],
        env={**os.environ, "PYTHONPATH": str(REPO / "tui")}, capture_output=True, text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (status, ""), done.stderr
    assert one_line(done.stderr) and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("backprop-tui: ") and message in done.stderr, done.stderr
