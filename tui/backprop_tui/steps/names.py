"""The names a person types for a step, resolved in an epoch: at the go-to prompt, in a
network file's ``[printed]`` table, in ``export --to``.

A step number works (``12``), and any name ``keys.parse`` reads: every key as it is
(``net_h1``, ``dE/dw5``, ``w5+``), a parameter or unit name (``w5``: the step giving w5 its
new value; ``b1``: its new value, or its gradient when biases stay fixed; ``h1``, ``o1``:
the unit's output), the tutorial's spellings and the app's Unicode. Matching ignores case
and spaces. With several training examples a name may carry its example (``net_h1[2]``) or
its batch (``dE/dw5[1..4]``); a plain name means the current example's value, or its
batch's (``w5``: the batch's new w5).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from backprop_tui import keys
from backprop_tui.engine.plan import JACOBIAN_STEPS_MAX, plan
from backprop_tui.keys import Key, NotAKey
from backprop_tui.netfile import NetworkFileError
from backprop_tui.network import Given, Names
from backprop_tui.output import quoted

if TYPE_CHECKING:
    from backprop_tui.engine.plan import Plan
    from backprop_tui.steps.build import EpochSteps

_SUCH_AS = f"{keys.listed(keys.W5, keys.DE_DW1)} or {keys.text(keys.TOTAL)}"


class UnknownName(ValueError):
    pass


def resolve(text: str, steps: EpochSteps, example: int = 0) -> int:
    """The 1-based index of the step ``text`` names in this epoch; with several examples, a
    plain name means example ``example``'s value (from 1; 0: the first), or its batch's."""
    return find_step(text, steps.keys, steps.names, len(steps), steps.diverged is not None,
                     example, steps.plan)


def find_step(text: str, indexes: dict[str, int], names: Names, count: int,
              diverged: bool = False, example: int = 0, steps: Plan | None = None) -> int:
    """The 1-based index of the step ``text`` names, among ``count`` steps whose keys are
    ``indexes`` (key text -> index) in a network named by ``names``. With several examples
    (``steps``, the epoch's plan), a name without an example's tag is tried as example
    ``example``'s (0: the first), then its batch's, then as it is; a name with one, as it
    is, then its batch's (``w5[3]``: the new w5 of the batch example 3 is in)."""
    text = text.strip()
    if not text:
        raise UnknownName(f"type a step number or a name such as {_SUCH_AS}")
    if text.isascii() and text.isdigit():
        index = int(text) if len(text) < 12 else 0
        if not 1 <= index <= count:
            raise UnknownName(f"this epoch has steps 1 to {count}")
        return index
    try:
        choices = keys.choices(text)
    except NotAKey:
        choices = []
    examples = steps.shape.examples if steps is not None else 1
    current = min(max(example, 1), examples)
    for key in choices:
        if examples == 1 and key.example:
            raise UnknownName(f"this network has one example: its names carry no [k] "
                              f"({text.strip().partition('[')[0]})")
        if examples == 1 or steps is None:
            candidates = [key]
        elif not key.example:
            candidates = [key.at(current), key.at(*steps.batch_of(current)), key]
        elif not key.example <= examples or key.last > examples:
            raise UnknownName(f"this network has examples 1 to {examples}")
        elif key.last and (key.example, key.last) not in steps.shape.batches():
            batches = ", ".join(f"{a}..{b}" for a, b in steps.shape.batches() if b > a)
            raise UnknownName(f"no batch is examples {key.example} to {key.last}"
                              + (f"; the batches of several are {batches}" if batches else
                                 ": every batch here is one example"))
        else:
            candidates = [key] if key.last else [key, key.at(*steps.batch_of(key.example))]
        for candidate in candidates:
            found = indexes.get(keys.text(candidate))
            if found is not None:
                return found
    if choices and keys.text(keys.parse(text)).partition("[")[0] in names.parameters():
        raise UnknownName(f"{text} is given, not computed: no step computes it")
    if choices and steps is not None:
        _not_a_step_here(choices[0], steps)
    if diverged:
        raise UnknownName(f"no step named {quoted(text)} before the divergence in this epoch")
    such = keys.EXAMPLES if examples == 1 else keys.listed(
        keys.W5, keys.DE_DW1.at(current), keys.OUT_H1.at(current), keys.TOTAL.at(current))
    raise UnknownName(f"no step named {quoted(text)}; try {such}")


def _not_a_step_here(key: Key, steps: Plan) -> None:
    """UnknownName saying why a value of the output layer that some networks give a step
    has none in this one."""
    if key.unit not in steps.names.units[-1]:
        return
    delta = keys.text(keys.unit("delta", key.above or key.unit))  # (the δ an entry is in)
    if (key.kind in ("jacobian", "slope") and steps.output.coupled
            and not steps.jacobian_steps()):
        raise UnknownName(f"beyond {JACOBIAN_STEPS_MAX} outputs a {steps.output.symbol} "
                          "layer's Jacobian entries are written inside δ's formula, not steps "
                          f"of their own: try {delta}")
    if key.kind == "chain" and not steps.loss.shortcut:
        raise UnknownName(f"δ is the chain rule's own here ({delta}): only with a shortcut "
                          "(cross-entropy) is it worked twice")


def completions(steps: EpochSteps) -> list[str]:
    """What the go-to prompt offers: weights, biases and units first, then every step key."""
    names = steps.network.names
    short = [w for layer in names.weights for row in layer for w in row]
    short += [b for layer in names.biases for b in layer]
    short += [u for layer in names.units[1:] for u in layer]
    return short + [key for key in steps.keys if key not in short]


def resolve_printed(given: Given, source: str) -> Given:
    """The network with each ``[printed]`` value tied to the key of the step it names, so
    that it means the same step whatever is edited later. A name that names no step with a
    value, or the same step as another, is a NetworkFileError naming the entry."""
    steps = plan(given)
    indexes = {keys.text(key): i for key, i in steps.index.items()}
    seen: dict[tuple[str, int], str] = {}
    found = []
    for entry in given.printed:
        where = f"{source}: printed, key {quoted(entry.written, 60)}"
        try:
            key = steps.keys[find_step(entry.name, indexes, steps.names, len(steps),
                                       steps=steps) - 1]
        except UnknownName as why:
            raise NetworkFileError(f"{where}: {why}") from None
        if key == keys.APPLY:
            raise NetworkFileError(f"{where}: the step that applies the updates has no value "
                                   "of its own; print the new values (w5+ …) instead")
        text = keys.text(key)
        if (text, entry.epoch) in seen:
            raise NetworkFileError(f"{where}: the same step as key "
                                   f"{quoted(seen[text, entry.epoch], 60)}")
        seen[text, entry.epoch] = entry.written
        found.append(dataclasses.replace(entry, key=text))
    return dataclasses.replace(given, printed=tuple(found))
