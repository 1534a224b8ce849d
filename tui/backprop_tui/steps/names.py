"""The names a person can type to go to a step.

Every step key works as it is (``net_h1``, ``dE/dw5``, ``w5+``, ``E_total``); so do:

- a step number: ``12``;
- a parameter or unit name: ``w5`` (the step giving w5 its new value), ``b1`` (its new
  value, or its gradient when biases stay fixed), ``h1`` / ``o1`` (the unit's output);
- the tutorial's spellings: ``dE_total/dw5``, ``w5_new``, ``dE_o1/dnet_o1`` (= ``delta_o1``),
  ``E_total_new``;
- the Unicode the app shows: ``∂E/∂w₅``, ``δ_o₁``, ``w₅⁺``.

Matching ignores case and spaces.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backprop_tui.network import Names
    from backprop_tui.steps.build import EpochSteps

_UNICODE = str.maketrans({"∂": "d", "η": "eta", "⁺": "+", "−": "-", **{
    chr(0x2080 + d): str(d) for d in range(10)}})


class UnknownName(ValueError):
    pass


def normalise(text: str) -> str:
    key = text.translate(_UNICODE).replace(" ", "")
    key = re.sub(r"^δ_?", "delta_", key)
    key = key.replace("dE_total/", "dE/").replace("dE_total/".lower(), "dE/")
    key = re.sub(r"_(new|after)$", "+", key)
    delta = re.fullmatch(r"dE(?:_[a-z0-9.]+)?/dnet_([a-z0-9.]+)", key, re.IGNORECASE)
    if delta:
        key = f"delta_{delta[1]}"
    return key


def resolve(text: str, steps: EpochSteps) -> int:
    """The 1-based index of the step ``text`` names in this epoch."""
    return find_step(text, steps.keys, steps.names, len(steps), steps.diverged is not None)


def find_step(text: str, keys: dict[str, int], names: Names, count: int,
              diverged: bool = False, lowered: dict[str, int] | None = None) -> int:
    """The 1-based index of the step ``text`` names, among ``count`` steps with ``keys``
    (``lowered``: the same keys in lower case, when the caller looks up many names)."""
    text = text.strip()
    if not text:
        raise UnknownName("type a step number or a name such as w5, dE/dw1 or E_total")
    if text.isdigit():
        index = int(text)
        if not 1 <= index <= count:
            raise UnknownName(f"this epoch has steps 1 to {count}")
        return index
    wanted = normalise(text).lower()
    if lowered is None:
        lowered = {key.lower(): index for key, index in keys.items()}
    for candidate in (wanted, f"{wanted}+", f"out_{wanted}", f"de/d{wanted}"):
        if candidate in lowered:
            return lowered[candidate]
    if wanted in {name.lower() for name in names.parameters()}:
        raise UnknownName(f"{text} is given, not computed: no step computes it")
    if diverged:
        raise UnknownName(f"no step named {text!r} before the divergence in this epoch")
    raise UnknownName(f"no step named {text!r}; try w5, dE/dw1, out_h1, delta_o1, E_total")


def completions(steps: EpochSteps) -> list[str]:
    """What the go-to prompt offers: weights, biases and units first, then every step key."""
    names = steps.network.names
    short = [w for layer in names.weights for row in layer for w in row]
    short += [b for layer in names.biases for b in layer]
    short += [u for layer in names.units[1:] for u in layer]
    return short + [key for key in steps.keys if key not in short]
