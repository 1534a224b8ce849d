"""Printed values beside computed ones: ✓ where they agree, ⚠ where not, and why.

A printed value (``[printed]`` in a network file: a learner's hand computation, or a
document's) agrees when it is within one unit of its last written digit of the computed
value. One that does not is either a slip of its own or follows from an earlier one. To tell
them apart the epoch is worked again the way the document did: every step takes the printed
value where there is one, and otherwise is recomputed from what the document had by then.
A printed value that this re-working reproduces follows from the slips upstream of it (or,
with none, from the rounding of the values it was worked from); one it does not is a slip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import TYPE_CHECKING

from backprop_tui import keys
from backprop_tui.numbers import representable, value_text
from backprop_tui.scalar import round_sig

if TYPE_CHECKING:
    from backprop_tui.network import Printed
    from backprop_tui.steps.build import EpochSteps

AGREES, SLIP, FOLLOWS, EDITED = "agrees", "slip", "follows", "edited"
# A printed value for a step whose computed value is not representable (a teaching-only
# step's −t/out where out underflowed to 0): there is no number to compare it with.
UNCOMPARED = "uncompared"
SYMBOLS = {AGREES: "✓", SLIP: "⚠", FOLLOWS: "⚠", EDITED: "✎", UNCOMPARED: "○"}


@dataclass(frozen=True)
class Mark:
    index: int  # the step's, 1-based
    key: str  # the step's key
    printed: Printed
    computed: float
    # AGREES, SLIP, FOLLOWS, EDITED (printed for the network before an edit) or UNCOMPARED
    # (the computed value is not representable)
    verdict: str
    reworked: float  # the step worked from the document's own values
    roots: tuple[str, ...] = ()  # FOLLOWS: the keys of the slips it follows from
    edits: tuple[str, ...] = ()  # EDITED: the edits that reach the step

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.verdict]

    def record(self, digits: int) -> dict[str, object]:
        """For the JSON logs: what was printed, and the mark."""
        return {"name": self.printed.name, "value": self.printed.text, "mark": self.verdict,
                "reason": self.reason(digits), "note": self.printed.note,
                "follows_from": list(self.roots)}

    def reason(self, digits: int) -> str:
        """One line: what was printed, and why it is marked so."""
        printed, computed = self.printed.text, value_text(self.computed, digits)
        if self.verdict == UNCOMPARED:
            text = (f"printed {printed}: not compared, the computed value is not "
                    "representable (an output underflowed to 0 or rounded to 1)")
        elif self.verdict == EDITED:
            text = (f"printed {printed} for the network before your edit of "
                    f"{', '.join(self.edits)}: not compared (computed {computed})")
        elif self.verdict == AGREES and exact(self.computed, printed):
            text = f"printed {printed}: agrees"
        elif self.verdict == AGREES:
            text = (f"printed {printed}: agrees but for its last digit (computed {computed}): "
                    "a value rounded along the way")
        elif self.verdict == FOLLOWS and self.roots:
            slips = ", ".join(keys.symbol(key) for key in self.roots)
            text = (f"printed {printed}, computed {computed}: follows from the slip in "
                    f"{slips}")
        elif self.verdict == FOLLOWS:
            text = (f"printed {printed}, computed {computed}: follows from rounding the "
                    "printed values it was worked from")
        else:
            text = f"printed {printed}, computed {computed}: a slip here"
            if representable(self.reworked) and self.reworked != self.computed:
                text += (" (from the values printed before it: "
                         f"{value_text(self.reworked, digits)})")
        return f"{text} — {self.printed.note}" if self.printed.note else text


# Printed numbers are limited (netfile) to 17 digits within 1e±300; a float is exact in
# ~1100 digits. This context holds any of their differences and roundings exactly.
_EXACT = Context(prec=1200, Emax=99_999, Emin=-99_999)


def agrees(value: float, text: str, rounding: int = 0) -> bool:
    """Whether ``value`` is within one unit of the last written digit of ``text`` (or of
    its ``rounding``-th significant digit, if that is coarser: hand rounding keeps no more)."""
    if not math.isfinite(value):
        return False
    with localcontext(_EXACT):
        written, exact_value = Decimal(text), Decimal(value)
        unit = Decimal(1).scaleb(int(written.as_tuple().exponent))
        if rounding and exact_value:
            unit = max(unit, Decimal(1).scaleb(exact_value.adjusted() - rounding + 1))
        return abs(exact_value - written) <= unit


def exact(value: float, text: str) -> bool:
    """Whether ``value`` rounded (half up) to the digits of ``text`` is ``text``."""
    if not math.isfinite(value):
        return False
    with localcontext(_EXACT):
        written = Decimal(text)
        return Decimal(value).quantize(written, ROUND_HALF_UP) == written


def marks(steps: EpochSteps, printed: Sequence[Printed],
          unedited: EpochSteps | None = None, edits: Sequence[str] = ()) -> dict[int, Mark]:
    """The marks of this epoch's steps that have a printed value, by step index. The values
    must have been tied to their steps (``steps.names.resolve_printed``). Printed values
    describe the network as its file gives it: where ``edits`` (by name) made this epoch
    differ from it (``unedited``, the same epoch without them), a step whose value they
    changed is marked EDITED, not judged."""
    if any(not entry.key for entry in printed):
        raise ValueError("printed values not tied to their steps: resolve_printed first")
    indexes = steps.keys
    wanted = {indexes[entry.key]: entry for entry in printed
              if entry.epoch == steps.epoch and entry.key in indexes}  # gone: edited, diverged
    if not wanted:
        return {}
    rounding = steps.network.rounding
    worked: dict[str, float] = {}  # every step as the document would have it
    roots: dict[str, frozenset[str]] = {}  # the slips each value follows from
    found = {}
    for index in range(1, max(wanted) + 1):
        step = steps[index - 1]
        if step.value is None:
            continue
        operands = [worked.get(key, value) if key in indexes else value
                    for key, value in zip(step.uses, step.operands, strict=True)]
        reworked = step.compute(operands)
        if rounding:
            reworked = round_sig(reworked, rounding)
        upstream = frozenset().union(*(roots.get(key, frozenset()) for key in step.uses))
        entry = wanted.get(index)
        if entry is None:
            worked[step.key], roots[step.key] = reworked, upstream
            continue
        if unedited is not None and unedited.keys.get(step.key) != index or (
                unedited is not None and unedited.value_at(index) != step.value):
            worked[step.key], roots[step.key] = entry.value, frozenset()
            found[index] = Mark(index, step.key, entry, step.value, EDITED, reworked,
                                edits=tuple(edits))
            continue
        if not step.representable:  # nothing to compare; the document's value goes on
            verdict = UNCOMPARED
        elif agrees(step.value, entry.text, rounding):
            verdict = AGREES
        elif agrees(reworked, entry.text, rounding):
            verdict = FOLLOWS
        else:
            verdict = SLIP
        worked[step.key] = entry.value
        roots[step.key] = frozenset([step.key]) if verdict == SLIP else (
            upstream if verdict == FOLLOWS else frozenset())
        found[index] = Mark(index, step.key, entry, step.value, verdict, reworked,
                            tuple(sorted(upstream, key=indexes.__getitem__))
                            if verdict == FOLLOWS else ())
    return found
