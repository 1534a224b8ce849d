"""A step: one scalar computation, as plain data that views and exporters render."""

from __future__ import annotations

from dataclasses import dataclass, field

from backprop_tui import keys
from backprop_tui.formula import Computation, Expr, Renderer
from backprop_tui.keys import Key
from backprop_tui.numbers import DEFAULT_DIGITS, representable, value_text


@dataclass(frozen=True, slots=True)
class Step:
    epoch: int  # from 1
    index: int  # from 1 within the epoch
    phase: str  # forward, error, output, hidden (hidden2, … with several), update
    key: str  # stable machine key, also a name a person can type (see ``keys``)
    kind: str  # what is computed: net, out, error, total, dE_dout, contrib, slope, delta, …
    expr: Expr  # the formula; its leaves are the operands below, by position
    uses: tuple[str, ...]  # keys of the values the formula combines
    operands: tuple[float, ...]  # their values, in the same order
    # float64; None only for the 'apply' step, which lists values. A teaching-only step
    # (``Plan.teaching``) may have NaN or ±inf: see ``representable``.
    value: float | None
    explanation: str
    touches: tuple[str, ...]  # diagram elements: units (i1, h1, o1), weights (w5), biases (b1)
    # The same keys as values (``key`` and ``uses`` are their texts), and the formula as a
    # function of its operands: what a view or a re-working needs of them.
    typed_key: Key = field(compare=False)
    typed_uses: tuple[Key, ...] = field(compare=False)
    compute: Computation = field(compare=False, repr=False)

    @property
    def example(self) -> int:
        """With several examples, the one (from 1) this step belongs to; 0 for a step of a
        whole batch (combining, applying an update) or of the data set, or of the only one."""
        key = self.typed_key
        return key.example if not key.last and key.kind != "apply" else 0

    @property
    def representable(self) -> bool:
        """Whether the value is a number a view can write: False only for a teaching-only
        step whose value is NaN or ±inf (−t/out where out underflowed to 0), which every
        view and log writes as "not representable" (``value_text``)."""
        return self.value is None or representable(self.value)

    def value_text(self, digits: int = DEFAULT_DIGITS) -> str:
        """The value as every view and log writes it: '' for the 'apply' step, the words
        "not representable" where it is not a finite number."""
        return "" if self.value is None else value_text(self.value, digits)

    @property
    def symbol(self) -> str:
        return keys.symbol(self.typed_key)

    @property
    def symbol_tex(self) -> str:
        return keys.tex(self.typed_key)

    @property
    def formula(self) -> str:
        return Renderer(self.typed_uses, None, False, DEFAULT_DIGITS).render(self.expr)

    @property
    def formula_tex(self) -> str:
        return Renderer(self.typed_uses, None, True, DEFAULT_DIGITS).render(self.expr)

    def substituted(self, digits: int = DEFAULT_DIGITS, tex: bool = False) -> str:
        return Renderer(self.typed_uses, self.operands, tex, digits).render(self.expr)

    def record(self, digits: int = DEFAULT_DIGITS) -> dict[str, object]:
        """The step as a JSON object (the `step` record of the JSONL export); ``example``
        only where it belongs to one of several. A value that is not representable is
        ``null`` with ``value_text`` "not representable" (JSON has no NaN or Infinity), and
        so is such an operand."""
        return {
            "type": "step",
            "epoch": self.epoch,
            "index": self.index,
            **({"example": self.example} if self.example else {}),
            "phase": self.phase,
            "key": self.key,
            "kind": self.kind,
            "symbol": self.symbol,
            "symbol_tex": self.symbol_tex,
            "formula": self.formula,
            "formula_tex": self.formula_tex,
            "substituted": self.substituted(digits),
            "substituted_tex": self.substituted(digits, tex=True),
            "value": self.value if self.representable else None,
            "value_text": self.value_text(digits),
            "explanation": self.explanation,
            "uses": list(self.uses),
            "operands": [value if representable(value) else None for value in self.operands],
            "touches": list(self.touches),
        }
