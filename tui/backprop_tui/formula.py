"""Formulas as small expression trees, rendered four ways and evaluated, from one description.

A formula is written once, as a tree whose leaves are a step's operands (by position) and
constants; it renders symbolically or with the numbers substituted, in Unicode (the app,
the text log) or LaTeX (the Markdown log), and ``evaluate`` computes it from any operands:
hand rounding works each step this way, and a printed walkthrough is re-worked this way.
A function node carries its own Python function, so evaluating never depends on how a
function is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, get_args

from backprop_tui import keys
from backprop_tui.keys import Key
from backprop_tui.numbers import fmt, representable, tex_value, value_text
from backprop_tui.scalar import exp, fsum, power


class Ref(NamedTuple):
    """The step's operand number ``operand``: its symbol, or its value once substituted."""

    operand: int


class Lit(NamedTuple):
    """A constant: ``number``, written ``uni`` (``tex``). With ``shown``, it is a named
    constant (n) whose number is shown in its place once the numbers are substituted."""

    uni: str
    tex: str
    number: float
    shown: bool = False


class Add(NamedTuple):
    terms: tuple[Expr, ...]


class Sub(NamedTuple):
    left: Expr
    right: Expr


class Mul(NamedTuple):
    factors: tuple[Expr, ...]


class Div(NamedTuple):
    top: Expr
    bottom: Expr


class Neg(NamedTuple):
    arg: Expr


class Power(NamedTuple):
    """``arg`` to a small whole power: x², x³."""

    arg: Expr
    exponent: int = 2


class Exp(NamedTuple):
    arg: Expr


class Root(NamedTuple):
    """The square root √x: Adam's √ŝ."""

    arg: Expr


class Raised(NamedTuple):
    """``base`` to a power that is itself a value (an update's number t): β₁ᵗ."""

    base: Expr
    exponent: Expr


class Call(NamedTuple):
    """A named function of its arguments: ``tanh(x)``, ``max(0, x)``; ``fn`` computes it."""

    uni: str
    tex: str
    args: tuple[Expr, ...]
    fn: Callable[..., float]


class Exact(NamedTuple):
    """A formula written as on paper (``shown``) but computed by ``fn`` of ``args``, where
    the written form loses precision: softplus reads ln(1 + e^net) and is computed without
    rounding 1 + e^net away."""

    shown: Expr
    args: tuple[Expr, ...]
    fn: Callable[..., float]


class Positive(NamedTuple):
    """1 where the argument is above 0, else ``below``: the slope of a ReLU (0) or a leaky
    ReLU (0.01)."""

    arg: Expr
    below: float = 0.0


class Assign(NamedTuple):
    """``name ← value`` for each (parameter key, operand) pair: the updates applied."""

    names: tuple[str, ...]
    values: tuple[Expr, ...]


Expr = (Ref | Lit | Add | Sub | Mul | Div | Neg | Power | Exp | Root | Raised | Call | Exact
        | Positive | Assign)
"""A formula: a tree of these nodes, tuples that are equal only to nodes of their own kind."""


def _same(node: tuple[object, ...], other: object) -> bool:
    return isinstance(other, tuple) and type(node) is type(other) and tuple.__eq__(node, other)


for _node in get_args(Expr):  # (Neg(x) is not Exp(x), though both are the tuple (x,))
    _node.__eq__ = _same
    _node.__ne__ = lambda node, other: not _same(node, other)
    _node.__hash__ = lambda node: hash((type(node).__name__, *node))

ONE = Lit("1", "1", 1.0)
HALF = Lit("½", r"\tfrac{1}{2}", 0.5)
ZERO = Lit("0", "0", 0.0)


def count(n: int) -> Lit:
    """The number of outputs, written n and shown as the number once substituted."""
    return Lit("n", "n", float(n), shown=True)


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_RAISED_PLAIN = "0123456789t"  # what a raised power writes as superscripts: β₁ᵗ, 0.9³
_RAISED = str.maketrans(_RAISED_PLAIN, "⁰¹²³⁴⁵⁶⁷⁸⁹ᵗ")


@dataclass(frozen=True, slots=True)
class Renderer:
    """Renders expressions whose operands are the values of ``keys``; ``values`` set means
    substituted, else symbolic."""

    keys: Sequence[Key | str]
    values: Sequence[float] | None
    tex: bool
    digits: int

    def leaf(self, index: int) -> tuple[str, int]:
        if self.values is None:
            key = self.keys[index]
            text = keys.tex(key) if self.tex else keys.symbol(key)
            # A symbol that is a quotient (∂E/∂w₁) binds as one: (∂E/∂w₁)², never ∂E/∂w₁².
            return text, (2 if "/" in text or r"\frac" in text else 9)
        value = self.values[index]
        text = tex_value(value, self.digits) if self.tex else value_text(value, self.digits)
        if not self.tex and text.startswith("-"):
            text = "−" + text[1:]  # the minus sign the formula's own operators use
        # A negative number reads like a sum, and so do words (an operand that is not
        # representable): parenthesise them inside anything tighter.
        return text, (1 if value < 0 or not representable(value) else 9)

    def render(self, expr: Expr) -> str:
        return self._render(expr)[0]

    def _wrap(self, expr: Expr, above: int, first: bool = False) -> str:
        text, precedence = self._render(expr)
        if precedence < above or (precedence == 1 and above == 1 and not first):
            return r"\left(" + text + r"\right)" if self.tex else f"({text})"
        return text

    def _later(self, expr: Expr, above: int) -> str:
        """An operand after an operator: wrapped as ``_wrap`` does, and one that starts
        with a minus sign in parentheses too (a·(−b), a/(−b), a − (−b), never a·−b)."""
        text, precedence = self._render(expr)
        return self._parenthesised(text) if precedence < above or _signed(text) else text

    def _parenthesised(self, text: str) -> str:
        return r"\left(" + text + r"\right)" if self.tex else f"({text})"

    def _render(self, e: Expr) -> tuple[str, int]:
        tex = self.tex
        match e:
            case Ref(index):
                return self.leaf(index)
            case Lit(uni, tex_text, number, shown):
                if self.values is not None and shown:
                    return fmt(number, self.digits), 9
                return (tex_text if tex else uni), 9
            case Add(terms):
                minus = " - " if tex else " − "
                text = ""
                for i, t in enumerate(_terms(terms)):
                    negated = _negated(t)
                    if i and negated is not None:  # a − b, not a + −b
                        text += minus + self._later(negated, 2)
                    else:
                        text += (" + " if i else "") + self._wrap(t, 1, first=(i == 0))
                return text, 1
            case Sub(left, right):
                minus = " - " if tex else " − "
                return self._wrap(left, 1, first=True) + minus + self._later(right, 2), 1
            case Mul(factors):
                dot = r" \cdot " if tex else "·"
                text = self._wrap(factors[0], 2)
                for before, factor in zip(factors, factors[1:], strict=False):
                    part = self._later(factor, 2)
                    # A literal coefficient reads without a dot: ½(t − out)², −2(t − out).
                    text += ("" if isinstance(before, Lit) and part[0] in "(\\" else dot) + part
                return text, 2
            case Div(top, bottom):
                if tex:
                    return rf"\frac{{{self.render(top)}}}{{{self.render(bottom)}}}", 9
                return self._wrap(top, 2, first=True) + "/" + self._later(bottom, 3), 2
            case Neg(arg):  # −a·b reads as −(a·b), which it equals; −(a − b) keeps them
                text, precedence = self._render(arg)
                if precedence < 2 or _signed(text):
                    text, precedence = self._parenthesised(text), 9
                return ("-" if tex else "−") + text, min(3, precedence)
            case Power(arg, exponent):
                inner = self._wrap(arg, 9)
                if tex:
                    return f"{inner}^{exponent}", 4
                return inner + str(exponent).translate(_SUPERSCRIPT), 4
            case Exp(arg):
                if tex:
                    return f"e^{{{self.render(arg)}}}", 4
                return f"e^({self.render(arg)})", 4
            case Root(arg):
                if tex:
                    return rf"\sqrt{{{self.render(arg)}}}", 9
                return "√" + self._wrap(arg, 9), 4
            case Raised(base, exponent):
                inner, power = self._wrap(base, 9), self.render(exponent)
                if tex:
                    return f"{inner}^{{{power}}}", 4
                small = set(power) <= set(_RAISED_PLAIN)  # t, 3: as superscripts
                return inner + (power.translate(_RAISED) if small else f"^({power})"), 4
            case Call(uni, tex_name, args):
                inner = ", ".join(self.render(arg) for arg in args)
                return f"{tex_name if tex else uni}({inner})", 9
            case Exact(shown):
                return self._render(shown)
            case Positive(arg, below):
                inner = self.render(arg)
                otherwise = fmt(below)
                if tex:
                    cases = rf"1 & {inner} > 0 \\ {otherwise} & \text{{otherwise}}"
                    return rf"\begin{{cases}} {cases} \end{{cases}}", 9
                return f"(1 if {inner} > 0, else {otherwise})", 9
            case Assign(names, values):
                arrow = r" \leftarrow " if tex else " ← "
                sep = r",\; " if tex else ", "
                show = keys.tex if self.tex else keys.symbol
                return sep.join(show(n) + arrow + self.render(v)
                                for n, v in zip(names, values, strict=True)), 0
        raise TypeError(f"not an expression: {e!r}")


def renumbered(e: Expr, place: Callable[[int], Expr]) -> Expr:
    """``e`` with each operand Ref(i) replaced by ``place(i)`` (another operand, or a
    formula of others)."""

    def inner(node: Expr) -> Expr:
        return renumbered(node, place)

    match e:
        case Ref(index):
            return place(index)
        case Lit() | Assign():
            return e
        case Add(terms):
            return Add(tuple(map(inner, terms)))
        case Mul(factors):
            return Mul(tuple(map(inner, factors)))
        case Sub(left, right):
            return Sub(inner(left), inner(right))
        case Div(top, bottom):
            return Div(inner(top), inner(bottom))
        case Neg(arg) | Exp(arg) | Root(arg):
            return type(e)(inner(arg))
        case Power(arg, exponent):
            return Power(inner(arg), exponent)
        case Raised(base, exponent):
            return Raised(inner(base), inner(exponent))
        case Positive(arg, below):
            return Positive(inner(arg), below)
        case Call(uni, tex, args, fn):
            return Call(uni, tex, tuple(map(inner, args)), fn)
        case Exact(shown, args, fn):
            return Exact(inner(shown), tuple(map(inner, args)), fn)
    raise TypeError(f"not an expression: {e!r}")


def _negated(e: Expr) -> Expr | None:
    """What a negation negates (of an Exact, its written form's), else None."""
    shown = e.shown if isinstance(e, Exact) else e
    return shown.arg if isinstance(shown, Neg) else None


def _signed(text: str) -> bool:
    """Whether rendered text starts with a minus sign (−x, −2·y, -\\frac…)."""
    return text.startswith(("−", "-"))


def _terms(terms: tuple[Expr, ...]) -> list[Expr]:
    """A sum's terms, a sum inside it written out in place: a + (b + c) is a + b + c."""
    return [part for t in terms for part in (_terms(t.terms) if isinstance(t, Add) else [t])]


Computation = Callable[[Sequence[float]], float]  # an expression's value from its operands


def evaluate(e: Expr, values: Sequence[float]) -> float:
    """The expression's value with ``values`` as its operands (see ``compiled``)."""
    return compiled(e)(values)


@lru_cache(maxsize=4096)
def compiled(e: Expr) -> Computation:
    """The expression as a function of its operands, on Python floats, one operation at a
    time as on paper: a sum is exactly rounded (``fsum``) and an overflow gives inf, as numpy
    does; Assign has no value (NaN).

    The function is generated as Python source, once per formula, and compiled: hand
    rounding works every step of every epoch this way, and a walk of the tree per step
    would cost several times the arithmetic. Every example's steps share their formulas'
    functions (the same expressions)."""
    names: dict[str, object] = {"fsum": fsum, "power": power, "exp": exp, "nan": math.nan,
                                "divide": _divide, "root": _root}
    source = _source(e, names)
    function: Computation = eval(f"lambda v: {source}", names)  # our own tree, no outside text
    return function


def _root(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


def _divide(top: float, bottom: float) -> float:
    return top / bottom if bottom else math.nan


def _source(e: Expr, names: dict[str, object]) -> str:
    """Python source for ``e``, its operands ``v[i]``; constants and functions go in
    ``names`` (so every number is the float itself, never a printed copy)."""

    def bound(value: object) -> str:
        name = f"c{len(names)}"
        names[name] = value
        return name

    def inner(node: Expr) -> str:
        return _source(node, names)

    match e:
        case Ref(index):
            return f"v[{index}]"
        case Lit(number=number):
            return bound(number)
        case Add(terms):
            return "fsum([" + ", ".join(map(inner, terms)) + "])"
        case Sub(left, right):
            return f"({inner(left)} - {inner(right)})"
        case Mul(factors):  # as math.prod: left to right
            return "(" + " * ".join(map(inner, factors)) + ")"
        case Div(top, bottom):
            return f"divide({inner(top)}, {inner(bottom)})"
        case Neg(arg):
            return f"(-{inner(arg)})"
        case Power(arg, exponent):
            return f"power({inner(arg)}, {exponent})"
        case Exp(arg):
            return f"exp({inner(arg)})"
        case Root(arg):
            return f"root({inner(arg)})"
        case Raised(base, exponent):
            return f"power({inner(base)}, {inner(exponent)})"
        case Call(args=args, fn=fn) | Exact(args=args, fn=fn):
            return f"{bound(fn)}(" + ", ".join(map(inner, args)) + ")"
        case Positive(arg, below):
            return f"(1.0 if {inner(arg)} > 0 else {bound(below)})"
        case Assign():
            return "nan"
    raise TypeError(f"not an expression: {e!r}")
