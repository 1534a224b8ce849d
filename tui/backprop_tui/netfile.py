"""Network files: read and write a network as TOML.

The layout is a contract with users who write these files by hand, so every problem is
reported as a single line naming the file, the key and what was expected, never a traceback.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backprop_tui.functions import ACTIVATIONS, LOSSES, OPTIMIZERS, outputs_for
from backprop_tui.network import (
    BATCH_LOSSES,
    BATCH_OPTIONS,
    BATCHES,
    MAX_EXAMPLES,
    MAX_LAYERS,
    MAX_ROUNDING,
    MAX_UNITS,
    MIN_ROUNDING,
    OPTIMIZER_OPTIONS,
    OPTIONS,
    UPDATE_ORDERS,
    Given,
    Network,
    Printed,
)
from backprop_tui.output import TooBig, clipped, quoted, read_bounded

if TYPE_CHECKING:
    import pathlib

TOP_KEYS = (*OPTIONS, *BATCH_OPTIONS, *OPTIMIZER_OPTIONS, "inputs", "targets", "layer",
            "printed")
MAX_FILE_BYTES = 1024 * 1024
# With several examples every step of an epoch is worked one scalar at a time: keep it to
# a second or two (a one-example network's epoch comes from numpy, however large).
MAX_EXAMPLE_STEPS = 100_000
MAX_KEY_PARTS = 64  # the dotted parts of one key, or the brackets nested in one value
PRINTED_KEYS = ("value", "note")
MAX_NOTE = 400  # characters: a note is one line beside a value
MAX_PRINTED_EPOCH = 100_000  # reaching an epoch runs every epoch before it
MAX_PRINTED = 2_000
MAX_PRINTED_DIGITS, MAX_PRINTED_EXPONENT = 17, 300
_EPOCH = re.compile(r"(.*?)\s*@\s*epoch\s*([0-9]+)", re.IGNORECASE)
LAYER_KEYS = ("weights", "bias", "activation")
_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
          list: "a list", dict: "a table"}


@dataclass(frozen=True)
class Source:
    """Where a network came from, for the session log's header and the session file."""

    kind: str  # "preset" or "file"
    name: str  # the preset's name or the file's path
    text: str  # the network file's full contents


class NetworkFileError(Exception):
    """A network file that cannot be used; str() is one line: file, key, what was expected."""


class _Invalid(Exception):
    """A problem found while parsing; parse_given prefixes it with the source name."""


def load_network(path: str | pathlib.Path) -> Network:
    return load_given(path).network()


def parse_network(text_or_bytes: str | bytes, source: str) -> Network:
    return parse_given(text_or_bytes, source).network()


def load_given(path: str | pathlib.Path) -> Given:
    return parse_given(read_file(path), str(path))


def read_file(path: str | pathlib.Path) -> bytes:
    """A network file's bytes, read once (it may be a pipe) and at most MAX_FILE_BYTES; OS
    errors (missing file, directory, …) become one line."""
    try:
        return read_bounded(path, MAX_FILE_BYTES)
    except TooBig:
        raise NetworkFileError(f"{path}: more than {MAX_FILE_BYTES:,} bytes; a network file "
                               "is a few kilobytes") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
        raise NetworkFileError(f"{path}: cannot read the file: {reason}") from None


def parse_given(text_or_bytes: str | bytes, source: str) -> Given:
    """Parse and check a network file's contents; ``source`` names it in error messages."""
    try:
        return _given(_toml(text_or_bytes))
    except _Invalid as problem:
        raise NetworkFileError(f"{source}: {problem}") from None


def network_from_document(document: dict[str, object], source: str) -> Network:
    """A network from the network-file layout already parsed (a session file's "network")."""
    try:
        return _given(document).network()
    except _Invalid as problem:
        raise NetworkFileError(f"{source}: {problem}") from None


def dump_network(network: Network) -> str:
    """The network as a TOML network file that parse_network reads back exactly."""
    document = network.to_document()
    layers = document.pop("layer")
    lines = [f"{key} = {_value(value)}" for key, value in document.items()]
    for layer in layers:
        lines += ["", "[[layer]]", *(f"{key} = {_value(value)}" for key, value in layer.items())]
    return "\n".join(lines) + "\n"


def _value(value: object) -> str:
    """One TOML value; floats use repr, which round-trips exactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        import json  # here: only writing a network file needs it

        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, float):
        return repr(value)
    raise TypeError(f"not a network-file value: {type(value).__name__}")


def _toml(text_or_bytes: str | bytes) -> dict[str, object]:
    if isinstance(text_or_bytes, bytes):
        try:
            text = text_or_bytes.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = f"0x{text_or_bytes[error.start]:02x}"
            raise _Invalid(f"not UTF-8 text: byte {bad} at byte offset {error.start}") from None
    else:
        text = text_or_bytes
    _prescan(text)
    try:
        return tomllib.loads(text.removeprefix("\ufeff"), parse_float=_Literal.parse)
    # tomllib lets int()'s digit limit (a ValueError) and deep nesting escape unwrapped.
    except ValueError as error:
        raise _Invalid(f"invalid TOML: {error}") from None
    except RecursionError:
        raise _Invalid("invalid TOML: values nested too deeply") from None


# Strings (each becomes one key-like token) and comments (dropped), then what the pre-scan
# refuses: a dotted key of more than MAX_KEY_PARTS parts, anywhere (a table header, an
# inline table), and brackets nested more than MAX_KEY_PARTS deep. A number's point joins
# two parts only, so a row of 64 weights, on its own line or in a comment, is no key.
_STRINGS = re.compile(r'''"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\''''
                      r'''|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(#[^\n]*)''')
_BARE = r"[A-Za-z0-9_\-]++"  # possessive, and a chain starts only where a part does: linear
_DOTTED = re.compile(
    rf"(?<![A-Za-z0-9_\-])(?:{_BARE}[ \t]*+\.[ \t]*+){{{MAX_KEY_PARTS},}}{_BARE}")
_BRACKETS = re.compile(r"[\[\]{}]")


def _prescan(text: str) -> None:
    """Refuse what would make the TOML parser take minutes and gigabytes (a key of tens of
    thousands of dotted parts, arrays nested thousands deep) before it sees the text."""
    bare = _STRINGS.sub(lambda found: "" if found[1] else "s", text)
    dotted = _DOTTED.search(bare)
    if dotted:
        number = bare.count("\n", 0, dotted.start()) + 1
        raise _Invalid(f"invalid TOML: line {number}: a key of more than {MAX_KEY_PARTS} "
                       "dotted parts")
    depth = 0
    for bracket in _BRACKETS.finditer(bare):
        depth += 1 if bracket[0] in "[{" else -1
        if depth > MAX_KEY_PARTS:
            number = bare.count("\n", 0, bracket.start()) + 1
            raise _Invalid(f"invalid TOML: line {number}: values nested too deeply (more "
                           f"than {MAX_KEY_PARTS} levels)")


class _Literal(float):
    """A float that remembers how it was written: a printed value's precision is its last
    written digit (0.5930 is checked to 4 decimals, not 3)."""

    text: str

    @classmethod
    def parse(cls, text: str) -> _Literal:
        number = cls(text)
        number.text = text.replace("_", "")
        return number


def _given(document: dict[str, object]) -> Given:
    for key in document:
        if key not in TOP_KEYS:
            known = ", ".join(TOP_KEYS)
            raise _Invalid(f"key {key!r}: unknown top-level key; expected one of {known}")
    layers = _layer_tables(document)
    for number, table in enumerate(layers, start=1):  # before "missing": keys may be misplaced
        _layer_keys(table, number)
    for key in ("inputs", "targets"):
        if key not in document:
            raise _Invalid(f"key {key!r}: missing, and it is required")
    inputs = _examples(document["inputs"], "inputs")
    if len(inputs[0]) > MAX_UNITS:
        raise _Invalid(f"key 'inputs': at most {MAX_UNITS} inputs are supported, "
                       f"got {len(inputs[0])}")
    weights: list[list[list[float]]] = []
    biases: list[list[float]] = []
    listed: list[bool] = []
    activations: list[str] = []
    for number, table in enumerate(layers, start=1):
        w, b, activation = _layer(table, number, len(weights[-1]) if weights else len(inputs[0]))
        weights.append(w)
        biases.append(b)
        listed.append(isinstance(table.get("bias"), list))
        activations.append(activation)
    targets = _examples(document["targets"], "targets")
    if len(targets) != len(inputs):
        rows = "1 row" if len(inputs) == 1 else f"{len(inputs)} rows"
        raise _Invalid(f"key 'targets': expected {rows} (one per example, as "
                       f"'inputs' has), got {len(targets)}")
    for i, row in enumerate(targets, start=1):
        if len(row) != len(weights[-1]):
            which = f", row {i}" if len(targets) > 1 else ""
            raise _Invalid(
                f"key 'targets'{which}: expected {len(weights[-1])} numbers (one per unit of "
                f"the output layer, layer {len(layers)}), got {len(row)}"
            )
    if len(inputs) > 1:
        _steps(len(inputs), [len(inputs[0]), *map(len, weights)],
               ACTIVATIONS[activations[-1]].coupled is not None)
    given = Given(
        inputs=tuple(map(tuple, inputs)),
        targets=tuple(map(tuple, targets)),
        weights=tuple(tuple(tuple(row) for row in w) for w in weights),
        biases=tuple(tuple(b) for b in biases),
        listed=tuple(listed),
        activations=tuple(activations),
        learning_rate=_learning_rate(document.get("learning_rate", 0.5)),
        loss=_choice(document.get("loss", "half_sse"), tuple(LOSSES), "key 'loss'"),
        update_biases=_flag(document.get("update_biases", False), "key 'update_biases'"),
        update_order=_choice(
            document.get("update_order", "after_backward"), UPDATE_ORDERS, "key 'update_order'"
        ),
        rounding=_rounding(document.get("rounding", 0)),
        batch=_batch(document.get("batch", "online"), len(inputs)),
        batch_loss=_choice(document.get("batch_loss", "mean"), BATCH_LOSSES,
                           "key 'batch_loss'"),
        **_optimizer(document),
    )
    problem = (classifier_problem(given.activations, given.loss, given.targets)
               or order_problem(given.update_order, given.optimizer, given.batch_size))
    if problem:
        raise _Invalid(problem)
    if "printed" in document:
        given = dataclasses.replace(given, printed=_printed(document["printed"]))
    return given


def _optimizer(document: dict[str, object]) -> dict[str, Any]:
    """The optimiser and its own options, each checked: an option of another optimiser is
    refused (it would be silently ignored), and so is a value out of its range."""
    name = _choice(document.get("optimizer", "sgd"), tuple(OPTIMIZERS), "key 'optimizer'")
    found: dict[str, Any] = {"optimizer": name}
    for key in OPTIMIZER_OPTIONS[1:]:
        if key not in document:
            continue
        foreign = option_owner_problem(key, name)
        if foreign:
            raise _Invalid(f"key {key!r}: {foreign}")
        value = _number(document[key], f"key {key!r}")
        problem = option_problem(key, value, name)
        if problem:
            raise _Invalid(f"key {key!r}: {problem}")
        found[key] = value
    return found


def option_owner_problem(key: str, optimizer: str) -> str | None:
    """What is wrong, in words that follow the option's name, with giving the optimiser
    option ``key`` to ``optimizer``, which does not take it (it would be silently
    ignored), or None (network files and edits both ask)."""
    if key not in OPTIMIZER_OPTIONS[1:] or key in OPTIMIZERS[optimizer].options:
        return None
    takers = " or ".join(f'"{o.name}"' for o in OPTIMIZERS.values() if key in o.options)
    return (f"an option of optimizer = {takers}; this network's optimizer is \"{optimizer}\""
            + (" (the default)" if optimizer == "sgd" else ""))


def option_problem(key: str, value: float, optimizer: str = "") -> str | None:
    """What is wrong, in words that follow the option's name, with ``value`` for the
    optimiser option ``key`` (momentum, beta1, beta2, epsilon) under ``optimizer`` ("" for
    any: only nesterov needs a momentum above 0), or None (network files and edits both
    ask). β = 1 would make 1 − βᵗ zero; ε = 0 gives 0/0 where a gradient is 0."""
    low_open = key == "epsilon" or (key == "momentum" and optimizer == "nesterov")
    high = math.inf if key == "epsilon" else 1.0
    if (low_open and value > 0.0 or not low_open and value >= 0.0) and value < high:
        return None
    span = ("above 0" if key == "epsilon" else
            f"from 0 to 1{' (above 0 for nesterov)' if key == 'momentum' else ''}, "
            "1 not included")
    return f"expected a number {span}, got {value:g}"


def order_problem(update_order: str, optimizer: str, batch: int) -> str | None:
    """What is wrong, in one line, with ``update_order`` beside the optimiser and the
    examples per batch (network files and edits both ask), or None: a layer is updated
    during the backward pass only by sgd, one example at a time."""
    if update_order != "during_backward":
        return None
    if optimizer != "sgd":
        return (f"key 'update_order': \"during_backward\" goes with optimizer = \"sgd\" only; "
                f"\"{optimizer}\" keeps state for every parameter and updates them all after "
                "the backward pass")
    if batch > 1:
        return ("key 'update_order': \"during_backward\" needs batches of one example "
                "(batch = \"online\"): every example of a batch uses the parameters as they "
                "stood at the batch's start")
    return None


TARGETS_SUM_TOLERANCE = 1e-12  # softmax with cross-entropy: |Σt − 1| (δ = out − t is off by
# out·(Σt − 1) otherwise)


def classifier_problem(activations: Sequence[str], loss: str,
                       targets: Iterable[Iterable[float]]) -> str | None:
    """What is wrong, in one line, with this combination of output rule, loss and targets
    (network files and edits both ask), or None: softmax on the output layer only and with
    two outputs or more; cross-entropy with the output activations it takes only, its
    targets in [0, 1] and, under softmax, each example's adding up to 1."""
    for number, activation in enumerate(activations[:-1], start=1):
        if ACTIVATIONS[activation].coupled:
            return (f"layer {number}, key 'activation': \"{activation}\" is for the output "
                    f"layer only (layer {len(activations)}): its outputs are shares of one "
                    "total, which a hidden layer has no use for")
    output = activations[-1]
    rows = [list(row) for row in targets]
    if ACTIVATIONS[output].coupled and len(rows[0]) < 2:
        return (f"layer {len(activations)}, key 'activation': \"{output}\" needs two outputs "
                "or more (the one output of a layer of one is always 1)")
    allowed = outputs_for(loss)
    if not allowed:
        return None
    if output not in allowed:
        names = " or ".join(f'"{name}"' for name in allowed)
        return (f"key 'loss': \"{loss}\" needs {names} outputs; the output layer "
                f"(layer {len(activations)}) is \"{output}\"")
    for i, row in enumerate(rows, start=1):
        which = f", row {i}" if len(rows) > 1 else ""
        if any(not 0.0 <= t <= 1.0 for t in row):
            return (f"key 'targets'{which}: with \"{loss}\" every target is a probability "
                    f"from 0 to 1, got {', '.join(f'{t:g}' for t in row)}")
        total = math.fsum(row)
        if ACTIVATIONS[output].coupled and abs(total - 1.0) > TARGETS_SUM_TOLERANCE:
            return (f"key 'targets'{which}: with \"{output}\" outputs and \"{loss}\" an "
                    f"example's targets add up to 1 (one-hot, such as [0, 1, 0], or shares); "
                    f"these add up to {total:.15g}")
    return None


def _examples(value: object, key: str) -> list[list[float]]:
    """``inputs`` or ``targets``: one example's numbers, or one row per example."""
    where = f"key {key!r}"
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        return [_numbers(value, where)]
    if len(value) > MAX_EXAMPLES:
        raise _Invalid(f"{where}: at most {MAX_EXAMPLES} examples are supported, "
                       f"got {len(value)} rows")
    rows = [_numbers(row, f"{where}, row {i}") for i, row in enumerate(value, start=1)]
    for i, row in enumerate(rows, start=1):
        if len(row) != len(rows[0]):
            raise _Invalid(f"{where}, row {i}: has {len(row)} numbers but row 1 has "
                           f"{len(rows[0])}; expected one row per example, all of the "
                           "same length")
    return rows


def _steps(examples: int, sizes: list[int], coupled: bool) -> None:
    """Refuse an epoch of several examples with too many steps to work one at a time
    (``coupled``: a softmax output layer, whose Jacobian adds up to n² + n steps)."""
    units = sum(sizes[1:])
    weights = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
    jacobian = sizes[-1] * (sizes[-1] + 1) if coupled else 0
    steps = examples * (5 * units + 4 * weights + jacobian)  # a bound: every example's steps
    if steps > MAX_EXAMPLE_STEPS:
        raise _Invalid(f"key 'inputs': {examples} examples of a network of {weights:,} weights "
                       f"make an epoch of up to {steps:,} steps; with several examples at most "
                       f"{MAX_EXAMPLE_STEPS:,} are supported: give fewer examples or a smaller "
                       "network")


def _batch(value: object, examples: int) -> str | int:
    where = "key 'batch'"
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= examples:
            raise _Invalid(f"{where}: expected a whole number of examples from 1 to "
                           f"{examples} (the examples given), got {value}")
        return value
    if value not in BATCHES:
        got = quoted(value) if isinstance(value, str) else _kind(value)
        raise _Invalid(f"{where}: expected \"online\", \"full\" or a whole number of "
                       f"examples from 1 to {examples}, got {got}")
    return str(value)


def _rounding(value: object) -> int:
    where = "key 'rounding'"
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{where}: expected a whole number of significant digits "
                       f"({MIN_ROUNDING} to {MAX_ROUNDING}, or 0 for none), got {_kind(value)}")
    if value != 0 and not MIN_ROUNDING <= value <= MAX_ROUNDING:
        raise _Invalid(f"{where}: expected {MIN_ROUNDING} to {MAX_ROUNDING} significant "
                       f"digits, or 0 for none, got {value}")
    return value


def _printed(table: object) -> tuple[Printed, ...]:
    """[printed]: step name (``h1``, ``"dE/dw5"``, ``"E_total @ epoch 10001"``) = a number,
    or ``{ value = number, note = "…" }``. Which step each name means is resolved where the
    steps are known (``steps.names.resolve_printed``)."""
    if not isinstance(table, dict):
        raise _Invalid(f"key 'printed': expected a table of step names and values, "
                       f"got {_kind(table)}")
    if len(table) > MAX_PRINTED:
        raise _Invalid(f"key 'printed': at most {MAX_PRINTED:,} values, got {len(table):,}")
    found = []
    for written, entry in table.items():
        where = f"printed, key {quoted(written, 60)}"
        match = _EPOCH.fullmatch(written)
        name, epoch = (match[1].strip(), int(match[2][-10:])) if match else (written.strip(), 1)
        if match and len(match[2].lstrip("0")) > 9:
            epoch = 0  # (and no int() of thousands of digits)
        if not 1 <= epoch <= MAX_PRINTED_EPOCH:
            raise _Invalid(f"{where}: the epoch must be 1 to {MAX_PRINTED_EPOCH:,}")
        note = ""
        if isinstance(entry, dict):
            for field in entry:
                if field not in PRINTED_KEYS:
                    raise _Invalid(f"{where}: unknown key {quoted(field)}; expected value "
                                   "and, optionally, note (a name with a dot, such as "
                                   "h1.1, needs quotes: \"h1.1\" = …)")
            if "value" not in entry:
                raise _Invalid(f"{where}: the table needs a value (and may have a note)")
            note = entry.get("note", "")
            if not isinstance(note, str) or not note.isprintable() or len(note) > MAX_NOTE:
                raise _Invalid(f"{where}, note: expected one line of text (at most "
                               f"{MAX_NOTE} characters)")
            entry = entry["value"]
        _number(entry, where)  # finite, not a string or a bool
        text = entry.text if isinstance(entry, _Literal) else str(entry)
        _precision(text, where)
        found.append(Printed(name, epoch, text, note, written))
    return tuple(found)


def _precision(text: str, where: str) -> None:
    """A printed number's digits set the precision it is checked at: keep them sensible."""
    from decimal import Decimal  # here: only printed values need it

    written = Decimal(text)
    digits, exponent = len(written.as_tuple().digits), written.adjusted()
    if digits > MAX_PRINTED_DIGITS or abs(exponent) > MAX_PRINTED_EXPONENT:
        raise _Invalid(f"{where}: expected at most {MAX_PRINTED_DIGITS} significant digits "
                       f"and a magnitude within 1e±{MAX_PRINTED_EXPONENT}, got {clipped(text)}")


def _layer_tables(document: dict[str, object]) -> list[dict[str, object]]:
    if "layer" not in document:
        raise _Invalid("key 'layer': missing, and it is required; add a [[layer]] table")
    value = document["layer"]
    expected = "key 'layer': expected an array of [[layer]] tables"
    if isinstance(value, dict):
        raise _Invalid(f"{expected}, got a single [layer] table (write [[layer]])")
    if not isinstance(value, list):
        raise _Invalid(f"{expected}, got {_kind(value)}")
    if not value:
        raise _Invalid(f"{expected}, got none; at least one layer is required")
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise _Invalid(f"{expected}, but item {number} is {_kind(item)}")
    if len(value) > MAX_LAYERS:
        raise _Invalid(f"key 'layer': at most {MAX_LAYERS} layers are supported, got {len(value)}")
    return value


def _layer_keys(table: dict[str, object], number: int) -> None:
    """Top-level keys written below a [[layer]] header land in that layer: say so."""
    where = f"layer {number}"
    for key in table:
        if key in TOP_KEYS and key != "layer":
            raise _Invalid(
                f"{where}, key {key!r}: this top-level key landed in a layer because it is "
                "written after a [[layer]] header; move it above the first [[layer]]"
            )
        if key not in LAYER_KEYS:
            raise _Invalid(
                f"{where}, key {key!r}: unknown layer key; expected one of {', '.join(LAYER_KEYS)}"
            )


def _layer(
    table: dict[str, object], number: int, fan_in: int
) -> tuple[list[list[float]], list[float], str]:
    """One [[layer]]: its weights, biases (one shared or one per unit) and activation."""
    where = f"layer {number}"
    if "weights" not in table:
        raise _Invalid(f"{where}, key 'weights': missing, and it is required")
    weights = _matrix(table["weights"], f"{where}, key 'weights'")
    if len(weights) > MAX_UNITS:
        raise _Invalid(
            f"{where}, key 'weights': at most {MAX_UNITS} units per layer are supported, "
            f"got {len(weights)} rows"
        )
    if len(weights[0]) != fan_in:
        before = "input" if number == 1 else f"unit of layer {number - 1}"
        raise _Invalid(
            f"{where}, key 'weights': expected {fan_in} columns (one per {before}), "
            f"got {len(weights[0])}"
        )
    bias = table.get("bias", 0)
    if isinstance(bias, list):
        biases = _numbers(bias, f"{where}, key 'bias'")
        if len(biases) != len(weights):
            raise _Invalid(
                f"{where}, key 'bias': expected one number (shared) or a list of {len(weights)} "
                f"(one per unit of this layer), got a list of {len(biases)}"
            )
    else:
        biases = [_number(bias, f"{where}, key 'bias'")]
    activation = table.get("activation", "sigmoid")
    return weights, biases, _choice(activation, tuple(ACTIVATIONS), f"{where}, key 'activation'")


def _matrix(value: object, where: str) -> list[list[float]]:
    if not isinstance(value, list) or not value:
        got = "[]" if value == [] else _kind(value)
        raise _Invalid(f"{where}: expected a non-empty list of rows (lists of numbers), got {got}")
    rows = [_numbers(row, f"{where}, row {i}", "column") for i, row in enumerate(value, start=1)]
    for i, row in enumerate(rows, start=1):
        if len(row) != len(rows[0]):
            raise _Invalid(
                f"{where}, row {i}: has {len(row)} numbers but row 1 has {len(rows[0])}; "
                "expected rows of the same length, one column per unit of the layer before"
            )
    return rows


def _numbers(value: object, where: str, item: str = "item") -> list[float]:
    if not isinstance(value, list) or not value:
        got = "[]" if value == [] else _kind(value)
        raise _Invalid(f"{where}: expected a non-empty list of numbers, got {got}")
    return [_number(x, f"{where}, {item} {i}") for i, x in enumerate(value, start=1)]


def _number(value: object, where: str) -> float:
    """A finite float; bool is an int subclass, so it is excluded explicitly."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"{where}: expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        number = math.inf if value > 0 else -math.inf
    if not math.isfinite(number):
        raise _Invalid(f"{where}: expected a finite number, got {number}")
    return number


def _learning_rate(value: object) -> float:
    rate = _number(value, "key 'learning_rate'")
    if rate <= 0:
        raise _Invalid(f"key 'learning_rate': expected a number > 0, got {rate!r}")
    return rate


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{where}: expected true or false, got {_kind(value)}")
    return value


def _choice(value: object, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:  # also rejects non-strings
        got = quoted(value) if isinstance(value, str) else _kind(value)
        raise _Invalid(f"{where}: expected one of {', '.join(map(repr, allowed))}, got {got}")
    return value


def _kind(value: object) -> str:
    """A value's TOML type in words; never its repr, which may be huge or deeply nested.
    (A float is read as a ``_Literal``, so the type is matched by isinstance, bool first.)"""
    return next((words for kind, words in _KINDS.items() if isinstance(value, kind)),
                "a date or time")
