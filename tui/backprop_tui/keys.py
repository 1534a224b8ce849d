"""Keys: the names of every value an epoch uses or computes, as one type.

A key names a value by what it is (its ``kind``) and the parts of the network it belongs
to, by their names (``network.Names``): ``Key("grad_w", unit="o1", param="w5")`` is the
gradient of w5, written ``dE/dw5`` and shown ``∂E/∂w₅``. This module is the only place that
writes a key as text or reads one back, so every other module builds and compares keys as
values. The texts are the stable machine keys of the logs and session files and the names a
person types at the go-to prompt:

- given values: inputs ``i1``, targets ``t_o1``, weights ``w5``, biases ``b1`` / ``b1.2``,
  the learning rate ``eta``;
- the forward pass: ``net_h1``, ``out_h1``; the error: ``E_o1``, ``E_total``;
- the backward pass: ``dE/dout_o1``, ``dout_o1/dnet_o1``, ``delta_o1``, ``dnet_o1/dw5``,
  ``dE/dw5``, ``dE/db2``, the share through a unit above ``dE_o1/dout_h1``; a softmax
  layer's Jacobian entries ``dout_o2/dnet_o1`` (its diagonal is ``dout_o1/dnet_o1``), and,
  where δ is worked by the shortcut out − t (cross-entropy), the chain rule's δ
  ``delta_o1(chain)``;
- an optimiser's numbers ``mu``, ``beta1``, ``beta2``, ``epsilon`` and the update's number
  ``t``; a parameter's state at the update's start ``v_w5`` (``m_w5``, ``s_w5``) and after
  it ``v_w5+``; Adam's bias corrections ``bc1``, ``bc2`` and corrected moments ``mhat_w5``,
  ``shat_w5``;
- new values ``w5+`` / ``b2+``, ``apply``, and after the updates ``out_o1+``, ``net_o1+``,
  ``E_total+``;
- with several training examples, a value of one example carries its number from 1
  (``net_h1[2]``, ``dE/dw5[2]``, ``t_o1[3]``); a batch's combined gradient, new values,
  update, optimiser lines and error carry the range of its examples (``dE/dw5[1..4]``,
  ``w5+[1..2]``, ``v_w5+[1..2]``, ``t[1..2]``, ``apply[3..4]``, ``E[1..4]``); the data
  set's error is ``E`` before the epoch's updates and ``E+`` after them.

``parse`` also takes what a person types: any case, spaces, the tutorial's spellings
(``dE_total/dw5``, ``w5_new``, ``dE_o1/dnet_o1`` for ``delta_o1``, ``E_total_new``) and the
Unicode the app shows (``∂E/∂w₅``, ``δ_o₁``, ``w₅⁺``). A later key (an example's index, an
optimiser's state) is a new field here and a new line in each of the tables below.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

# The kinds of value. Given: known before the epoch; computed: by a step of its own;
# "out_after", "net_after": an output and its weighted sum after the updates, which the last
# step computes inside its formula.
GIVEN = ("input", "target", "weight", "bias", "eta", "mu", "beta1", "beta2", "epsilon", "t",
         "v", "m", "s")
COMPUTED = ("net", "out", "error", "total", "contrib", "dE_dout", "slope", "jacobian",
            "chain", "delta", "dnet_dw", "grad_w", "new_w", "grad_b", "new_b", "bc1", "bc2",
            "new_v", "new_m", "new_s", "mhat", "shat", "apply", "total_after", "batch_error",
            "dataset_after")
STATE = ("v", "m", "s")  # an optimiser's state of a parameter (functions.Optimizer.slots)
# "dataset": the data set's error at the epoch's start (no step of its own computes it).
KINDS = (*GIVEN, *COMPUTED, "out_after", "net_after", "dataset")


class Key(NamedTuple):
    """A value by kind and by the names of the network's parts it belongs to (a tuple: keys
    are hashed wherever values are looked up)."""

    kind: str
    unit: str = ""  # the unit: h1, o1 (the input itself for "input", the output for "target")
    param: str = ""  # the weight or bias: w5, b1, b1.2
    above: str = ""  # "contrib": the unit above that the share flows back through;
    # "jacobian": the unit whose weighted sum the output ``unit`` is differentiated by
    example: int = 0  # with several examples: the example (from 1), or a batch's first
    last: int = 0  # a batch of more than one example: its last

    def __str__(self) -> str:
        return text(self)

    def at(self, example: int, last: int = 0) -> Key:
        """This value of example ``example`` (from 1), or of the batch of examples
        ``example`` to ``last``."""
        return Key(self.kind, self.unit, self.param, self.above, example,
                   last if last > example else 0)

    @property
    def new(self) -> Key:
        """The new value of this weight or bias (``w5`` -> ``w5+``, ``w5[2]`` -> ``w5+[2]``)."""
        return Key("new_w" if self.kind == "weight" else "new_b", param=self.param,
                   example=self.example, last=self.last)

    @property
    def gradient(self) -> Key:
        """The gradient of this weight or bias (``w5`` -> ``dE/dw5``, with its tag)."""
        return Key("grad_w" if self.kind == "weight" else "grad_b", param=self.param,
                   example=self.example, last=self.last)

    def state(self, slot: str) -> Key:
        """This weight's or bias's optimiser state ``slot`` at the update's start (``v_w5``)."""
        return Key(slot, param=self.param, example=self.example, last=self.last)

    @property
    def parameter(self) -> Key:
        """The weight or bias a gradient, a new value or ∂net/∂w is about (``w5``)."""
        return parameter(self.param)


# Making keys ------------------------------------------------------------------------------


def unit(kind: str, name: str) -> Key:
    """A per-unit key: ``unit("net", "h1")`` is net_h1."""
    return Key(kind, unit=name)


def parameter(name: str) -> Key:
    """A weight or bias by name (``w5``, ``b1.2``)."""
    return Key("weight" if name.startswith("w") else "bias", param=name)


def source(name: str) -> Key:
    """The value a weight multiplies: an input (``i1``) or a unit's output (``out_h1``)."""
    return Key("input", unit=name) if name.startswith("i") else Key("out", unit=name)


ETA = Key("eta")
TOTAL = Key("total")
APPLY = Key("apply")
TOTAL_AFTER = Key("total_after")
DATASET = Key("dataset")
DATASET_AFTER = Key("dataset_after")


# Text -------------------------------------------------------------------------------------

_TEXT = {
    "input": "{unit}", "target": "t_{unit}", "weight": "{param}", "bias": "{param}",
    "eta": "eta", "net": "net_{unit}", "out": "out_{unit}", "error": "E_{unit}",
    "total": "E_total", "contrib": "dE_{above}/dout_{unit}", "dE_dout": "dE/dout_{unit}",
    "slope": "dout_{unit}/dnet_{unit}", "jacobian": "dout_{unit}/dnet_{above}",
    "chain": "delta_{unit}(chain)", "delta": "delta_{unit}", "dnet_dw": "dnet_{unit}/d{param}",
    "grad_w": "dE/d{param}", "grad_b": "dE/d{param}", "new_w": "{param}+", "new_b": "{param}+",
    "mu": "mu", "beta1": "beta1", "beta2": "beta2", "epsilon": "epsilon", "t": "t",
    "v": "v_{param}", "m": "m_{param}", "s": "s_{param}", "new_v": "v_{param}+",
    "new_m": "m_{param}+", "new_s": "s_{param}+", "mhat": "mhat_{param}",
    "shat": "shat_{param}", "bc1": "bc1", "bc2": "bc2",
    "apply": "apply", "total_after": "E_total+", "out_after": "out_{unit}+",
    "net_after": "net_{unit}+",
    "batch_error": "E", "dataset": "E", "dataset_after": "E+",
}


def _tag(key: Key, dash: str = "..") -> str:
    """An example's number or a batch's range of examples, in brackets: [2], [1..4]."""
    if key.last:
        return f"[{key.example}{dash}{key.last}]"
    return f"[{key.example}]" if key.example else ""


@cache
def text(key: Key) -> str:
    """The key as the logs and session files write it: ``dE/dw5``, ``dE/dw5[2]``."""
    return _TEXT[key.kind].format(unit=key.unit, param=key.param, above=key.above) + _tag(key)


_UNIT = r"(?:[iho]\d+(?:\.\d+)?)"
_PARAM = r"(?:[wb]\d+(?:\.\d+)?)"
_WRITTEN = [
    (r"(?P<unit>{u})", "input"),  # i1; h1 and o1 read as a unit's output, below
    (r"t_(?P<unit>{u})", "target"),
    (r"(?P<param>w\d+)", "weight"),
    (r"(?P<param>b\d+(?:\.\d+)?)", "bias"),
    (r"eta", "eta"),
    (r"net_(?P<unit>{u})", "net"),
    (r"out_(?P<unit>{u})", "out"),
    (r"e_(?P<unit>{u})", "error"),
    (r"e_total", "total"),
    (r"de_(?P<above>{u})/dout_(?P<unit>{u})", "contrib"),
    (r"de/dout_(?P<unit>{u})", "dE_dout"),
    (r"dout_(?P<unit>{u})/dnet_(?P=unit)", "slope"),
    (r"dout_(?P<unit>{u})/dnet_(?P<above>{u})", "jacobian"),
    (r"delta_(?P<unit>{u})\(chain(?:rule)?\)", "chain"),
    (r"delta_(?P<unit>{u})", "delta"),
    (r"dnet_(?P<unit>{u})/d(?P<param>w\d+)", "dnet_dw"),
    (r"de/d(?P<param>w\d+)", "grad_w"),
    (r"de/d(?P<param>b\d+(?:\.\d+)?)", "grad_b"),
    (r"(?P<param>w\d+)\+", "new_w"),
    (r"(?P<param>b\d+(?:\.\d+)?)\+", "new_b"),
    (r"mu", "mu"),
    (r"beta1", "beta1"),
    (r"beta2", "beta2"),
    (r"epsilon", "epsilon"),
    (r"t", "t"),
    (r"(?P<slot>[vms])_(?P<param>{p})", "state"),
    (r"(?P<slot>[vms])_(?P<param>{p})\+", "new_state"),
    (r"mhat_(?P<param>{p})", "mhat"),
    (r"shat_(?P<param>{p})", "shat"),
    (r"bc1", "bc1"),
    (r"bc2", "bc2"),
    (r"apply", "apply"),
    (r"e_total\+", "total_after"),
    (r"out_(?P<unit>{u})\+", "out_after"),
    (r"net_(?P<unit>{u})\+", "net_after"),
    (r"e", "dataset"),
    (r"e\+", "dataset_after"),
]
_EXAMPLE = re.compile(r"(.*?)\[\s*(\d{1,3})\s*(?:(?:\.\.|-|–|to)\s*(\d{1,3})\s*)?\]")
_UNICODE = str.maketrans({"∂": "d", "η": "eta", "⁺": "+", "−": "-", "μ": "mu",
                          "β": "beta", "ε": "epsilon", "\u0302": "hat", "ŝ": "shat", "ᵗ": "t", **{
    chr(0x2080 + d): str(d) for d in range(10)}})


class NotAKey(ValueError):
    """Text that names no value."""


def parse(written: str) -> Key:
    """The key ``written`` names: a key's text, or a name as a person types it (any case,
    spaces, the tutorial's spellings, the app's Unicode). NotAKey if it names none; whether
    the value exists in a given network is for the caller to look up. A trailing ``[k]``
    or ``[k..m]`` names an example or a batch."""
    tagged = _EXAMPLE.fullmatch(written.strip())
    if tagged:
        untagged = parse(tagged[1])
        first, last = int(tagged[2]), int(tagged[3] or 0)
        if first < 1 or (last and last < first):
            raise NotAKey(written)
        if untagged.kind == "dataset":
            untagged = Key("batch_error")
        return untagged.at(first, last)
    # Spaces go, or stand for "_" where they part words: "d E / d w5", "E total", "out o1".
    spaced = re.sub(r"\s*/\s*", "/", written.strip())
    for key in dict.fromkeys((_normalise(written.replace(" ", "")),
                              _normalise(re.sub(r"\s+", "_", spaced)))):
        for pattern, kind in _patterns():
            found = pattern.fullmatch(key)
            if found:
                parts: dict[str, str] = found.groupdict()
                if kind == "input" and not parts["unit"].startswith("i"):
                    return Key("out", unit=parts["unit"])  # h1, o1: the unit's output
                if kind in ("state", "new_state"):  # v_w5, v_w5+
                    slot = parts["slot"]
                    return Key(slot if kind == "state" else f"new_{slot}", param=parts["param"])
                return Key(kind, parts.get("unit", ""), parts.get("param", ""),
                           parts.get("above", ""))
    raise NotAKey(written)


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """The texts' patterns, compiled on first use (not when the app starts)."""
    return [(re.compile(pattern.format(u=_UNIT, p=_PARAM)), kind) for pattern, kind in _WRITTEN]


def _normalise(written: str) -> str:
    key = written.translate(_UNICODE).lower()
    key = re.sub(r"^δ_?", "delta_", key)
    key = re.sub(r"^([ms])hat(?=[a-z])", r"\1hat_", key)  # m̂w5 (no underscore)
    key = key.replace("de_total/", "de/")
    key = re.sub(r"_(new|after)$", "+", key)
    delta = re.fullmatch(r"de(?:_[a-z0-9.]+)?/dnet_([a-z0-9.]+)", key)
    return f"delta_{delta[1]}" if delta else key


def choices(written: str) -> list[Key]:
    """The keys a typed name may mean, best first: the value it names; for a weight or bias
    its new value, then its gradient (a bias that stays fixed has no new value); for a unit
    its output; for E (several examples) a batch's error, else an example's E_total; E+
    and E_total+ for each other. NotAKey if it names none."""
    key = parse(written)
    if key.kind in ("weight", "bias"):
        return [key.new, key.gradient]
    if key.kind in STATE:  # v_w5: the new state, as w5 means w5+
        return [Key(f"new_{key.kind}", param=key.param, example=key.example, last=key.last),
                key]
    if key.kind in ("dataset", "batch_error"):  # E: a batch's error; of one example, its
        return [key, TOTAL.at(key.example, key.last)]  # E_total
    if key.kind in ("total_after", "dataset_after"):  # E_total+ and E+, either network
        return [key, DATASET_AFTER if key.kind == "total_after" else TOTAL_AFTER]
    return [key]


def listed(*examples: Key) -> str:
    """Keys as examples in a sentence: 'w5, dE/dw1, E_total'."""
    return ", ".join(text(key) for key in examples)


W5, DE_DW1, OUT_H1 = parameter("w5"), Key("grad_w", param="w1"), unit("out", "h1")
EXAMPLES = listed(W5, DE_DW1, OUT_H1, unit("delta", "o1"), TOTAL)
"""Names to suggest wherever a step is asked for by name."""


# Symbols ---------------------------------------------------------------------------------

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_NAME = re.compile(r"([a-z])(\d+(?:\.\d+)?)")


def _name(name: str, tex: bool) -> str:
    """A unit or parameter name with its number as a subscript: h₁, w₅, b₁.₂ (h_{1})."""
    found = _NAME.fullmatch(name)
    if found is None:  # t_o1
        prefix, _, rest = name.partition("_")
        return f"{prefix}_{{{_name(rest, tex)}}}" if tex else f"{prefix}_{_name(rest, tex)}"
    return f"{found[1]}_{{{found[2]}}}" if tex else found[1] + found[2].translate(_SUBSCRIPT)


def _of(prefix: str, name: str, tex: bool) -> str:
    """A quantity of a unit: net_h₁ (\\mathrm{net}_{h_{1}})."""
    return f"{prefix}_{{{_name(name, tex)}}}" if tex else f"{prefix}_{_name(name, tex)}"


_PREFIXES = {"net": (r"\mathrm{net}", "net"), "out": (r"\mathrm{out}", "out"),
             "delta": (r"\delta", "δ"), "E": ("E", "E"), "v": ("v", "v"), "m": ("m", "m"),
             "s": ("s", "s"), "mhat": (r"\hat{m}", "m\u0302"), "shat": (r"\hat{s}", "s\u0302")}
_GREEK = {"mu": (r"\mu", "μ"), "beta1": (r"\beta_{1}", "β₁"), "beta2": (r"\beta_{2}", "β₂"),
          "epsilon": (r"\varepsilon", "ε"), "t": ("t", "t"), "bc1": (r"\mathrm{bc}_{1}", "bc₁"),
          "bc2": (r"\mathrm{bc}_{2}", "bc₂")}


def _simple(kind: str, name: str, tex: bool) -> str:
    prefix = _PREFIXES[kind][0 if tex else 1]
    return _of(prefix, name, tex)


def _plus(symbol: str, tex: bool) -> str:
    return f"{symbol}^{{+}}" if tex else f"{symbol}⁺"


def _partial(top: str, bottom: str, tex: bool) -> str:
    if tex:
        return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"
    return f"∂{top}/∂{bottom}"


def _symbol(key: Key, tex: bool) -> str:
    u, p = key.unit, key.param
    total = r"E_{\mathrm{total}}" if tex else "E_total"
    match key.kind:
        case "input" | "weight" | "bias":
            return _name(u or p, tex)
        case "target":
            return _name(f"t_{u}", tex)
        case "eta":
            return r"\eta" if tex else "η"
        case "net" | "out" | "delta":
            return _simple(key.kind, u, tex)
        case "error":
            return _simple("E", u, tex)
        case "total":
            return total
        case "contrib":
            return _partial(_simple("E", key.above, tex), _simple("out", u, tex), tex)
        case "dE_dout":
            return _partial("E", _simple("out", u, tex), tex)
        case "slope":
            return _partial(_simple("out", u, tex), _simple("net", u, tex), tex)
        case "jacobian":
            return _partial(_simple("out", u, tex), _simple("net", key.above, tex), tex)
        case "chain":
            delta = _simple("delta", u, tex)
            return rf"{delta}\,(\text{{chain rule}})" if tex else f"{delta} (chain rule)"
        case "dnet_dw":
            return _partial(_simple("net", u, tex), _name(p, tex), tex)
        case "grad_w" | "grad_b":
            return _partial("E", _name(p, tex), tex)
        case "new_w" | "new_b":
            return _plus(_name(p, tex), tex)
        case "mu" | "beta1" | "beta2" | "epsilon" | "t" | "bc1" | "bc2":
            return _GREEK[key.kind][0 if tex else 1]
        case "v" | "m" | "s" | "mhat" | "shat":
            return _of(_PREFIXES[key.kind][0 if tex else 1], p, tex)
        case "new_v" | "new_m" | "new_s":
            return _plus(_of(key.kind[-1], p, tex), tex)
        case "apply":
            return r"\text{apply}" if tex else "apply"
        case "total_after":
            return _plus(total, tex)
        case "out_after":
            return _plus(_simple("out", u, tex), tex)
        case "net_after":
            return _plus(_simple("net", u, tex), tex)
        case "batch_error" | "dataset":
            return "E"
        case "dataset_after":
            return _plus("E", tex)
    raise ValueError(f"not a key: {key!r}")


@cache
def symbol(key: Key | str) -> str:
    """The key in the Unicode the app shows: ``∂E/∂w₅``, ``∂E/∂w₅[2]``, ``w₅⁺[1–4]``."""
    key = parse(key) if isinstance(key, str) else key
    return _symbol(key, False) + _tag(key, "–")


@cache
def tex(key: Key | str) -> str:
    """The key in LaTeX, for the Markdown logs: ``\\frac{\\partial E}{\\partial w_{5}}``."""
    key = parse(key) if isinstance(key, str) else key
    return _symbol(key, True) + _tag(key, r"\text{–}")
