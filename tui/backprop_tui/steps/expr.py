"""A tiny expression tree per step, rendered four ways from one description.

A formula is written once, as a tree whose leaves are the step's operands (by position) and
literals; it renders symbolically or with the numbers substituted, in Unicode (the app, the
text log) or LaTeX (the Markdown log).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from backprop_tui.numbers import fmt
from backprop_tui.scalar import exp, fsum, square
from backprop_tui.steps.symbols import tex_symbol, unicode_symbol


class Expr:
    precedence = 9


@dataclass(frozen=True)
class Ref(Expr):
    """The step's operand number ``index``: its symbol, or its value once substituted."""

    index: int


@dataclass(frozen=True)
class Lit(Expr):
    """A constant; ``value`` is shown in place of the symbol once substituted (n -> 2)."""

    uni: str
    tex: str
    value: str | None = None


@dataclass(frozen=True)
class Add(Expr):
    terms: tuple[Expr, ...]
    precedence = 1


@dataclass(frozen=True)
class Sub(Expr):
    left: Expr
    right: Expr
    precedence = 1


@dataclass(frozen=True)
class Mul(Expr):
    factors: tuple[Expr, ...]
    precedence = 2


@dataclass(frozen=True)
class Div(Expr):
    top: Expr
    bottom: Expr
    precedence = 2


@dataclass(frozen=True)
class Neg(Expr):
    arg: Expr
    precedence = 3


@dataclass(frozen=True)
class Square(Expr):
    arg: Expr
    precedence = 4


@dataclass(frozen=True)
class Exp(Expr):
    arg: Expr
    precedence = 4


@dataclass(frozen=True)
class Call(Expr):
    """``tanh(x)`` or ``max(0, x)``: a named function of one argument (after ``lead``)."""

    uni: str
    tex: str
    arg: Expr
    lead: str = ""


@dataclass(frozen=True)
class Positive(Expr):
    """1 where the argument is above 0, else 0 (the ReLU's slope)."""

    arg: Expr


@dataclass(frozen=True)
class Assign(Expr):
    """``name ← value`` for each (parameter key, operand) pair: the updates applied."""

    names: tuple[str, ...]
    values: tuple[Expr, ...]


ONE = Lit("1", "1")
HALF = Lit("½", r"\tfrac{1}{2}")


@dataclass(frozen=True)
class Renderer:
    """Renders expressions; ``values`` set means substituted, else symbolic."""

    keys: Sequence[str]
    values: Sequence[float] | None
    tex: bool
    digits: int

    def leaf(self, index: int) -> tuple[str, int]:
        if self.values is None:
            key = self.keys[index]
            return (tex_symbol(key) if self.tex else unicode_symbol(key)), 9
        value = self.values[index]
        text = fmt(value, self.digits)
        if self.tex and "e" in text:
            mantissa, _, exponent = text.partition("e")
            text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
        # A negative number reads like a sum: parenthesise it inside anything tighter.
        return text, (1 if value < 0 else 9)

    def render(self, expr: Expr) -> str:
        return self._render(expr)[0]

    def _wrap(self, expr: Expr, above: int, first: bool = False) -> str:
        text, precedence = self._render(expr)
        if precedence < above or (precedence == 1 and above == 1 and not first):
            return r"\left(" + text + r"\right)" if self.tex else f"({text})"
        return text

    def _render(self, e: Expr) -> tuple[str, int]:
        tex = self.tex
        match e:
            case Ref(index):
                return self.leaf(index)
            case Lit(uni, tex_text, value):
                if self.values is not None and value is not None:
                    return value, 9
                return (tex_text if tex else uni), 9
            case Add(terms):
                parts = [self._wrap(t, 1, first=(i == 0)) if not _plain_sum(t) else
                         self._render(t)[0] for i, t in enumerate(terms)]
                return " + ".join(parts), 1
            case Sub(left, right):
                minus = " - " if tex else " − "
                return self._wrap(left, 1, first=True) + minus + self._wrap(right, 2), 1
            case Mul(factors):
                dot = r" \cdot " if tex else "·"
                text = self._wrap(factors[0], 2)
                for before, factor in zip(factors, factors[1:]):
                    part = self._wrap(factor, 2)
                    # A literal coefficient reads without a dot: ½(t − out)², −2(t − out).
                    text += ("" if isinstance(before, Lit) and part[0] in "(\\" else dot) + part
                return text, 2
            case Div(top, bottom):
                if tex:
                    return rf"\frac{{{self.render(top)}}}{{{self.render(bottom)}}}", 9
                return self._wrap(top, 2, first=True) + "/" + self._wrap(bottom, 3), 2
            case Neg(arg):
                return ("-" if tex else "−") + self._wrap(arg, 3), 3
            case Square(arg):
                inner = self._wrap(arg, 9)
                return (f"{inner}^2" if tex else f"{inner}²"), 4
            case Exp(arg):
                if tex:
                    return f"e^{{{self.render(arg)}}}", 4
                return f"e^({self.render(arg)})", 4
            case Call(uni, tex_name, arg, lead):
                return f"{tex_name if tex else uni}({lead}{self.render(arg)})", 9
            case Positive(arg):
                inner = self.render(arg)
                if tex:
                    cases = rf"1 & {inner} > 0 \\ 0 & \text{{otherwise}}"
                    return rf"\begin{{cases}} {cases} \end{{cases}}", 9
                return f"(1 if {inner} > 0, else 0)", 9
            case Assign(names, values):
                arrow = r" \leftarrow " if tex else " ← "
                sep = r",\; " if tex else ", "
                symbol = tex_symbol if tex else unicode_symbol
                return sep.join(symbol(n) + arrow + self.render(v)
                                for n, v in zip(names, values, strict=True)), 0
        raise TypeError(f"not an expression: {e!r}")


LITERALS = {"1": 1.0, "½": 0.5, "−2": -2.0}  # the constants formulas use, by their symbol


def evaluate(e: Expr, values: Sequence[float]) -> float:
    """The expression's value with ``values`` as its operands: a step recomputed from other
    numbers (a printed walkthrough's own, or rounded ones). Assign has no value: NaN."""
    match e:
        case Ref(index):
            return values[index]
        case Lit(uni, _, value):
            return float(value) if value is not None else LITERALS[uni]
        case Add(terms):
            return fsum(evaluate(t, values) for t in terms)
        case Sub(left, right):
            return evaluate(left, values) - evaluate(right, values)
        case Mul(factors):
            return math.prod(evaluate(f, values) for f in factors)
        case Div(top, bottom):
            below = evaluate(bottom, values)
            return evaluate(top, values) / below if below else math.nan
        case Neg(arg):
            return -evaluate(arg, values)
        case Square(arg):
            return square(evaluate(arg, values))
        case Exp(arg):
            return exp(evaluate(arg, values))
        case Call(uni, _, arg, _):
            x = evaluate(arg, values)
            return math.tanh(x) if uni == "tanh" else max(0.0, x)
        case Positive(arg):
            return 1.0 if evaluate(arg, values) > 0 else 0.0
        case Assign():
            return math.nan
    raise TypeError(f"not an expression: {e!r}")


def _plain_sum(term: Expr) -> bool:
    """A sum nested in a sum needs no parentheses (a + b + c)."""
    return isinstance(term, Add)
