"""The network diagram: units in columns, their connections, and a table of every weight and
bias.

``layout`` is pure (no Textual): it places every piece of text and every line cell on a grid
of the given size, so tests can check overlaps and clicks without running an app.
``NetworkDiagram`` only paints a layout in the theme's styles and turns clicks into messages.
The widget does no math: it lays out and formats the numbers the app hands it.

One layout serves a whole epoch: where everything goes follows from the network and the
panel's size alone (``_plan``, made once), never from the step, and every number has its
place reserved before it is known. A step only fills the places in (``_fill``).

- A unit is a block: ``┤h1 0.5933`` (its output), its ``δ`` under it once computed, and an
  output's target ``t``.
- Between two small layers each connection is a line of its own: level, or a 45° diagonal
  between two level runs, so lines cross as ``╳`` and none has a stray step. Its weight's
  name sits on a stretch that is its line's alone, where there is room. Between larger
  layers the connections meet on one vertical bus.
- Under the drawing a table lists every weight and bias: the units it joins, its value
  ``→`` its new value, and its gradient, under a header with η; under an optimiser with
  state, each slot of it (``m``, ``s``; ``v``), marked ``⁺`` once the new value is
  computed. Where the table has no room for them, the state's columns go first.
- Where no drawing fits, the units are listed (a column per layer when they fit) above the
  table (*compact*); in a very small area, everything is one list.

Touched elements carry a mark (▶ in the forward pass, ◀ in the backward one) and heavy
lines, with an arrowhead ◀ where the backward flow reaches a unit; the value being
computed is in reverse video: never colour alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import repeat
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from backprop_tui import keys
from backprop_tui.app.components.regions import refresh_rows
from backprop_tui.app.view_model import DiagramModel, Parameter
from backprop_tui.numbers import fmt

FORWARD, BACKWARD = "▶", "◀"  # the mark of a touched element, by the flow's direction
TITLE_MARGIN = 4  # the border's cells around its title: a corner and a space each side
EDGE = "┤"  # where a unit's connections arrive
PLACEHOLDER = "·"  # a value not computed yet this epoch
DELTA, TARGET, ETA = "δ", "t", "η"
TO = "→ "  # in the table, after the old value's field (which ends in a space or "]")
NEW_STATE = "⁺"  # after an optimiser's state once its new value is computed
FIXED = "fixed"  # a bias that keeps its value
MORE = "⋮ {} more"
LIST_GAP = 2  # between list columns
MAX_FAN = 4  # more connections into or out of one unit meet on a bus
MIN_GAP = 3  # a bus: a run in, the bus, a run out
MAX_PITCH = 8  # rows from one unit's name to the next at most, leaving room for the table
MIN_TABLE_ROWS = 3  # fewer, and the compact rendering does better
BRACKET_ROOM = 2  # after a softmax layer's blocks: a space and the bracket joining them
COMPACT_SPLIT = 5  # lower than this, everything is one list

# Line cells are stored as the directions they reach (N, E, S, W) and diagonals (\, /),
# so crossing and branching lines merge into one glyph.
_ARMS = ("E", "W", "N", "S", "EW", "NS", "SW", "NE", "NW", "ES", "ESW", "NEW", "NES", "NSW", "NESW")
_LIGHT = dict(zip(_ARMS, "──││─│╮╰╯╭┬┴├┤┼"))
_HEAVY = dict(zip(_ARMS, "━━┃┃━┃┓┗┛┏┳┻┣┫╋"))  # a touched weight's line
_ORDER = "NESW"
_STRAIGHT = set(_ORDER)

Cell = tuple[int, int]


# Numbers ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def fit(value: float, digits: int, width: int) -> str:
    """``value`` to ``digits`` significant digits, or to as many as ``width`` cells hold
    (a short exponent first: 4.386e-4). (Cached: a step shows nearly every number the
    step before did.)"""
    text = _short(fmt(value, digits))
    if len(text) <= width:
        return text
    for count in range(digits, 0, -1):
        for text in (_short(fmt(value, count)), _short(f"{value:.{count - 1}e}")):
            if len(text) <= width:
                return text
    return text[:width]


def _short(text: str) -> str:
    """The exponent without its sign's "+" or leading zeros: 4.386e-4, not 4.386e-04."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m[1] == "-" else "") + m[2], text)


def _shown(value: float | None, digits: int, width: int) -> str:
    return PLACEHOLDER if value is None else fit(value, digits, width)


# What a layout is made of --------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """One run of text on one row; clicking it selects ``element``."""

    x: int
    y: int
    text: str
    element: str | None = None
    state: str = ""  # "", "touched", "focus" or "dim": how the painter styles it
    new_at: int = -1  # where a new value starts, -1 without one

    @property
    def end(self) -> int:
        return self.x + len(self.text)


@dataclass(frozen=True)
class Layout:
    """Everything on the grid: text spans over line cells, and what each cell selects."""

    width: int
    height: int
    mode: str
    spans: tuple[Span, ...] = ()
    lines: Mapping[Cell, tuple[str, bool]] = field(default_factory=dict)  # glyph, touched
    hit: Mapping[Cell, str] = field(default_factory=dict)

    def rows(self) -> list[str]:
        """The plain text: exactly ``height`` rows of exactly ``width`` characters."""
        grid = [[" "] * self.width for _ in range(self.height)]
        for (x, y), (glyph, _) in self.lines.items():
            grid[y][x] = glyph
        for span in self.spans:
            grid[span.y][span.x : span.end] = span.text
        return ["".join(row) for row in grid]


class _Canvas:
    """Collects spans while a layout is filled in; refuses text that overlaps."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.spans: list[Span] = []
        # Per row, 1 where a span's text is: a step puts a few hundred spans, each checked
        # against its row at C speed.
        self.taken = [bytearray(width) for _ in range(height)]

    def free(self, x: int, y: int, width: int, margin: int = 0) -> bool:
        """Whether ``width`` cells at (x, y) are inside the grid and ``margin`` from any text."""
        if x < 0 or y < 0 or y >= self.height or x + width > self.width:
            return False
        return self.taken[y].find(1, max(0, x - margin), x + width + margin) < 0

    def put(self, span: Span, margin: int = 0) -> bool:
        if not span.text or not self.free(span.x, span.y, len(span.text), margin):
            return False
        self.spans.append(span)
        self.taken[span.y][span.x : span.end] = b"\x01" * len(span.text)
        return True


@lru_cache(maxsize=256)
def _glyph(arms: str, heavy: bool) -> str:
    """One character for everything that passes through a cell (a diagonal never shares a
    cell with a level line: the routing sees to it)."""
    key = "".join(direction for direction in _ORDER if direction in arms)
    if key:
        return (_HEAVY if heavy else _LIGHT)[key]
    if "\\" in arms and "/" in arms:
        return "╳"
    return "╲" if "\\" in arms else "╱"


# The shape: what the places depend on -----------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """The network without the step: layers, connections, given numbers as text."""

    layers: tuple[tuple[str, ...], ...]
    weights: tuple[tuple[str, str, str], ...]  # name, from, to
    params: tuple[tuple[str, str, bool], ...]  # weights then biases: name, joins, updates
    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    eta: str
    digits: int
    legend: bool  # whether a step may mark which value of a parameter it uses
    coupled: tuple[str, ...] = ()  # the output units a bracket joins (a softmax layer)
    slots: tuple[str, ...] = ()  # the optimiser's state: a column each in the table


def _shape(model: DiagramModel) -> _Shape:
    layers = tuple(units for units in model.layers if units)
    inputs = tuple(fmt(model.values.get(unit) or 0.0, model.digits) for unit in layers[0])
    outputs = layers[-1] if len(layers) > 1 else ()
    targets = tuple(fmt(model.targets[unit], model.digits) for unit in outputs
                    if unit in model.targets)
    eta = "" if model.eta is None else fmt(model.eta, model.digits)
    known = {unit for units in layers for unit in units}
    weights = tuple((w.name, w.source or "", w.feeds[0]) for w in model.weights
                    if w.source in known and w.feeds and w.feeds[0] in known)
    params = tuple((p.name, _joins(p), p.updates) for p in (*model.weights, *model.biases))
    coupled = tuple(unit for unit in model.coupled if unit in outputs)
    return _Shape(layers, weights, params, inputs, targets, eta, model.digits,
                  len(layers) > 2, coupled if len(coupled) > 1 else (), model.slots)


def _joins(parameter: Parameter) -> str:
    """``h1→o1`` for a weight, ``→h1–h2`` for a bias (the units it is added to)."""
    feeds = parameter.feeds
    into = feeds[0] if len(feeds) == 1 else f"{feeds[0]}–{feeds[-1]}" if feeds else ""
    return f"{parameter.source or ''}→{into}"


@dataclass(frozen=True)
class _Widths:
    """Cells reserved for each kind of number."""

    value: int  # a unit's output, a weight's value and new value
    delta: int
    gradient: int


def _widths(digits: int) -> tuple[_Widths, _Widths]:
    """Roomy (every number at ``digits`` digits but the very small), then tight."""
    return _Widths(digits + 4, digits + 5, digits + 5), _Widths(digits + 3, digits + 4, digits + 4)


# The plan: where everything goes ----------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """A unit's block: its mark at ``x``, its name's row ``y``, its rows of values."""

    x: int
    y: int
    name_width: int
    end: int  # one past its widest row
    rows: tuple[str, ...]  # "value", "delta", "target"
    outgoing: bool  # whether connections leave it (its value's unused cells are line)
    incoming: bool

    @property
    def field(self) -> int:
        """Where its numbers start."""
        return self.x + 1 + self.name_width + 1


@dataclass(frozen=True)
class _Bus:
    """Connections that meet on a vertical bus at ``middle`` between columns x0 and x1."""

    x0: int
    middle: int
    x1: int
    rows: Mapping[str, int]  # unit -> its name's row

    def path(self, source: str, target: str) -> list[Cell]:
        ys, yt = self.rows[source], self.rows[target]
        cells = [(x, ys) for x in range(self.x0, self.middle + 1)]
        cells += [(self.middle, y) for y in range(min(ys, yt), max(ys, yt) + 1)]
        return cells + [(x, yt) for x in range(self.middle, self.x1 + 1)]


@dataclass(frozen=True)
class _Table:
    """The table of weights and biases: a header row, items in columns, a legend row.

    An item is ``▶w5 h1→o1 [0.4]→ 0.3589  0.08217``: its head (mark, name, the units it
    joins) and its numbers (the old value's field, with room for [ ] and a space, "→ ", the
    new value, the gradient; then each slot of the optimiser's state, with room for ⁺).
    Where that is too wide, the numbers go on a second row."""

    x: int
    y: int  # the header's row
    width: int
    rows: int  # rows for items under the header
    columns: int
    widths: _Widths
    name: int  # cells of the names
    joins: int  # cells of what they join
    split: bool = False
    legend: int | None = None  # the legend's row
    slots: tuple[str, ...] = ()

    @property
    def head(self) -> int:
        return 1 + self.name + 1 + self.joins

    @property
    def old(self) -> int:
        """The old value's field: a space or "[" before it, a space or "]" after it."""
        return self.widths.value + 2

    @property
    def gradient_end(self) -> int:
        """Where the gradient's field ends, from where the numbers start."""
        return self.old + len(TO) + self.widths.value + 1 + self.widths.gradient

    @property
    def state(self) -> int:
        """Cells of one slot of the state: a space, the number, a place for ⁺."""
        return 1 + self.widths.gradient + len(NEW_STATE)

    @property
    def numbers(self) -> int:
        return self.gradient_end + len(self.slots) * self.state

    @property
    def item(self) -> int:
        return max(self.head, 1 + self.numbers) if self.split else self.head + self.numbers

    @property
    def height(self) -> int:
        """Rows an item takes."""
        return 2 if self.split else 1

    @property
    def capacity(self) -> int:
        return self.rows // self.height * self.columns

    def place(self, k: int) -> Cell:
        """Where the ``k``-th item of a page starts."""
        per_column = max(1, self.rows // self.height)
        return (self.x + k // per_column * (self.item + LIST_GAP),
                self.y + 1 + k % per_column * self.height)

    def numbers_at(self, x: int, y: int) -> Cell:
        """Where the numbers of an item at (x, y) start."""
        return (x + 1, y + 1) if self.split else (x + self.head, y)


@dataclass(frozen=True)
class _List:
    """Items in ``columns`` columns of ``rows`` rows at (x, y), ``width`` cells each."""

    x: int
    y: int
    rows: int
    columns: int
    width: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Plan:
    mode: str  # "drawn", "compact", "list"
    widths: _Widths
    blocks: Mapping[str, _Block] = field(default_factory=dict)
    arms: Mapping[Cell, str] = field(default_factory=dict)
    owners: Mapping[Cell, frozenset[str]] = field(default_factory=dict)
    paths: Mapping[str, tuple[Cell, ...]] = field(default_factory=dict)  # drawn lines
    buses: Mapping[str, _Bus] = field(default_factory=dict)  # weight -> its bus
    ports: Mapping[str, Cell] = field(default_factory=dict)  # weight -> where it leaves
    labels: Mapping[str, Cell] = field(default_factory=dict)
    table: _Table | None = None
    units: tuple[_List, ...] = ()  # compact: the units' lists
    unit_width: Mapping[str, int] = field(default_factory=dict)  # compact: name cells


def layout(model: DiagramModel, width: int, height: int) -> Layout:
    """Place the model on a ``width`` × ``height`` grid in the richest rendering that fits.

    The places depend on the network and the size only, so every step of an epoch puts each
    thing in the same place."""
    width, height = max(0, width), max(0, height)
    if not all(model.layers):
        model = replace(model, layers=tuple(units for units in model.layers if units))
    if width == 0 or height == 0 or not model.layers:
        return Layout(width, height, "empty")
    return _fill(_plan(_shape(model), width, height), model, width, height)


@lru_cache(maxsize=32)
def _plan(shape: _Shape, width: int, height: int) -> _Plan:
    """The drawing with the whole table, then paged; the state's columns (if any) kept
    before the roomier widths, dropped before a page; else the compact rendering."""
    shapes = (shape, replace(shape, slots=())) if shape.slots else (shape,)
    for paged in (False, True):
        for variant in shapes:
            for widths in _widths(shape.digits):
                found = _drawn(variant, widths, width, height, paged=paged)
                if found is not None:
                    return found
    tight = _widths(shape.digits)[1]
    return _compact(next((variant for variant in shapes
                          if not _table(variant, tight, width).split), shapes[-1]),
                    width, height)


# The drawing ----------------------------------------------------------------------------


def _drawn(shape: _Shape, widths: _Widths, width: int, height: int,
           paged: bool) -> _Plan | None:
    layers = shape.layers
    if len(layers) < 2:
        return None
    count = len(layers)
    name_widths = [max(len(unit) for unit in units) for units in layers]
    block_widths = [1 + name_widths[0] + 1 + max(map(len, shape.inputs), default=1)]
    block_widths += [max(1 + name + 1 + widths.value, 3 + widths.delta)
                     for name in name_widths[1:]]
    block_widths[-1] = max(block_widths[-1], 3 + max(map(len, shape.targets), default=0))
    if shape.coupled:  # a space, then the bracket that joins a softmax layer's outputs
        block_widths[-1] += BRACKET_ROOM
    kinds = [("value",)] + [("value", "delta")] * (count - 2) + [("value", "delta", "target")]
    spare = width - sum(block_widths)
    if spare < MIN_GAP * (count - 1):
        return None
    gaps = [spare // (count - 1) + (k >= count - 1 - spare % (count - 1))
            for k in range(count - 1)]
    lefts = [sum(block_widths[:k]) + sum(gaps[:k]) for k in range(count)]

    table = _table(shape, widths, width)
    if table.split:
        return None
    legend = 1 if table.legend is not None else 0
    wanted = math.ceil(len(shape.params) / table.columns)
    tallest = max(len(kind) for units, kind in zip(layers, kinds) if len(units) > 1) if any(
        len(units) > 1 for units in layers) else 1
    least = _depth(layers, kinds, tallest)
    room = height - 1 - legend - wanted
    if room < least:
        if not paged or height - 1 - legend - least < MIN_TABLE_ROWS:
            return None
        room = least
    elif paged:
        return None
    rows = height - 1 - legend - room
    best: tuple[tuple[int, int, int], _Plan] | None = None
    top = max(tallest, min(MAX_PITCH, _pitch(layers, kinds, room)))
    for pitch in range(top, tallest - 1, -1):
        plan = _draw(shape, widths, layers, kinds, name_widths, lefts, block_widths, pitch,
                     room)
        if plan is None:
            continue
        score = (len(plan.paths), len(plan.labels), pitch)
        if best is None or score > best[0]:
            best = (score, plan)
        if len(plan.paths) == len(shape.weights) and len(plan.labels) == len(plan.paths):
            break
    if best is None:
        return None
    plan = best[1]
    placed = replace(table, y=room, rows=rows, legend=room + 1 + rows if legend else None)
    return replace(plan, table=placed)


def _offsets(units: int, pitch: int) -> list[int]:
    """The rows of a layer's names around its middle, ``pitch`` apart."""
    return [((2 * j - units + 1) * pitch) // 2 for j in range(units)]


def _depth(layers: Sequence[Sequence[str]], kinds: Sequence[Sequence[str]], pitch: int) -> int:
    """The rows a drawing takes at ``pitch``."""
    offsets = [_offsets(len(units), pitch) for units in layers]
    top = min(rows[0] for rows in offsets)
    return max(rows[-1] + len(kind) for rows, kind in zip(offsets, kinds)) - top


def _pitch(layers: Sequence[Sequence[str]], kinds: Sequence[Sequence[str]], room: int) -> int:
    """The largest pitch whose drawing fits in ``room`` rows."""
    pitch = 1
    while _depth(layers, kinds, pitch + 1) <= room and pitch < room:
        pitch += 1
    return pitch


def _draw(shape: _Shape, widths: _Widths, layers: Sequence[Sequence[str]],
          kinds: Sequence[Sequence[str]], name_widths: Sequence[int], lefts: Sequence[int],
          block_widths: Sequence[int], pitch: int, room: int) -> _Plan | None:
    """Blocks, lines and labels at ``pitch``, centred in ``room`` rows; None if a gap
    cannot be drawn."""
    depth = _depth(layers, kinds, pitch)
    offsets = [_offsets(len(units), pitch) for units in layers]
    shift = (room - depth) // 2 - min(rows[0] for rows in offsets)
    blocks = {}
    for index, (units, rows, kind) in enumerate(zip(layers, offsets, kinds)):
        end = lefts[index] + block_widths[index]
        if shape.coupled and index == len(layers) - 1:
            end -= BRACKET_ROOM  # the bracket's: see _bracket
        for unit, row in zip(units, rows):
            blocks[unit] = _Block(lefts[index], row + shift, name_widths[index], end,
                                  tuple(kind), index < len(layers) - 1, index > 0)
    arms: dict[Cell, set[str]] = {}
    owners: dict[Cell, set[str]] = {}
    paths: dict[str, tuple[Cell, ...]] = {}
    buses: dict[str, _Bus] = {}
    ports: dict[str, Cell] = {}
    labels: dict[str, Cell] = {}
    taken: set[Cell] = set()  # cells the blocks' text may take
    for block in blocks.values():
        for k in range(len(block.rows)):
            taken.update((x, block.y + k) for x in range(block.x, block.end))
    for index in range(len(layers) - 1):
        gap = [w for w in shape.weights if blocks[w[1]].x == lefts[index]
               and blocks[w[2]].x == lefts[index + 1]]
        if not gap:
            continue
        x0, x1 = lefts[index] + block_widths[index], lefts[index + 1] - 1
        ports.update((name, (x0, blocks[source].y)) for name, source, _ in gap)
        lines = _lines(gap, blocks, x0, x1) if _single(
            len(layers[index]), len(layers[index + 1])) else None
        if lines is not None:
            gap_arms, gap_owners, gap_paths = lines
            if any(cell in taken for cell in gap_arms):
                lines = None
        if lines is None:
            if x1 - x0 + 1 < MIN_GAP:
                return None
            bus = _Bus(x0, (x0 + x1) // 2, x1,
                       {unit: blocks[unit].y for w in gap for unit in w[1:]})
            gap_arms, gap_owners = _bus(bus, gap)
            buses.update((name, bus) for name, _, _ in gap)
        else:
            paths.update(gap_paths)
        for cell, cell_arms in gap_arms.items():
            arms.setdefault(cell, set()).update(cell_arms)
        for cell, names in gap_owners.items():
            owners.setdefault(cell, set()).update(names)
        if lines is not None:
            labels.update(_labels([w[0] for w in gap], gap_paths, gap_arms, gap_owners,
                                  taken))
    return _Plan(
        "drawn", widths, blocks,
        {cell: "".join(sorted(a)) for cell, a in arms.items()},
        {cell: frozenset(names) for cell, names in owners.items()},
        paths, buses, ports, labels)


def _single(sources: int, targets: int) -> bool:
    """Whether a gap gets a line per connection: when at most two of them cross (two layers
    of at most two units, or a fan into or out of one unit), and a fan is not too wide."""
    crossings = math.comb(sources, 2) * math.comb(targets, 2)
    return crossings <= 1 and max(sources, targets) <= MAX_FAN


def _lines(gap: Sequence[tuple[str, str, str]], blocks: Mapping[str, _Block], x0: int,
           x1: int) -> tuple[dict[Cell, set[str]], dict[Cell, set[str]],
                             dict[str, tuple[Cell, ...]]] | None:
    """Each connection its own line: a level run from its source, a 45° diagonal centred in
    the gap, a level run into its target. None where lines would touch without crossing
    cleanly (then a bus does better)."""
    wide = x1 - x0 + 1
    arms: dict[Cell, set[str]] = {}
    owners: dict[Cell, set[str]] = {}
    paths: dict[str, tuple[Cell, ...]] = {}
    for name, source, target in gap:
        ys, yt = blocks[source].y, blocks[target].y
        drop = yt - ys
        steps = abs(drop) - 1 if drop else 0
        if drop and steps + 2 > wide:
            return None
        turn = x0 + (wide - steps - 2) // 2  # the last cell of the source's run
        cells: list[tuple[int, int, str]] = []
        if drop == 0:
            cells = [(x, ys, "EW") for x in range(x0, x1 + 1)]
        elif abs(drop) == 1:
            down = drop > 0
            cells = [(x, ys, "EW") for x in range(x0, turn)]
            cells += [(turn, ys, "W" + ("S" if down else "N")),
                      (turn, yt, ("N" if down else "S") + "E")]
            cells += [(x, yt, "EW") for x in range(turn + 1, x1 + 1)]
        else:
            sign = 1 if drop > 0 else -1
            cells = [(x, ys, "EW") for x in range(x0, turn + 1)]
            cells += [(turn + k, ys + sign * k, "\\" if sign > 0 else "/")
                      for k in range(1, steps + 1)]
            cells += [(x, yt, "EW") for x in range(turn + steps + 1, x1 + 1)]
        for x, y, cell_arms in cells:
            arms.setdefault((x, y), set()).update(cell_arms)
            owners.setdefault((x, y), set()).add(name)
        paths[name] = tuple((x, y) for x, y, _ in cells)
    return (arms, owners, paths) if _clean(arms, owners) else None


def _clean(arms: Mapping[Cell, set[str]], owners: Mapping[Cell, set[str]]) -> bool:
    """No diagonal overlaps a level line or a parallel diagonal, lies beside one, or meets
    another diagonal other than by crossing it; corners belong to one line."""

    def diagonal(cell: Cell) -> str:
        found = arms.get(cell, set())
        return "".join(sorted(found - _STRAIGHT))

    for (x, y), cell_arms in arms.items():
        slants = cell_arms - _STRAIGHT
        if cell_arms & {"N", "S"} and len(owners[(x, y)]) > 1:
            return False
        if not slants:
            continue
        if cell_arms & _STRAIGHT:
            return False
        if len(owners[(x, y)]) > len(slants):  # two lines share a slant
            return False
        for side in (x - 1, x + 1):
            beside = arms.get((side, y), set())
            if beside & _STRAIGHT or beside & slants:
                return False
        here, right = diagonal((x, y)), diagonal((x + 1, y))
        if here == "\\" and right == "/":  # ╲╱: the upper half of a crossing
            if diagonal((x, y + 1)) != "/" or diagonal((x + 1, y + 1)) != "\\":
                return False
        if here == "/" and right == "\\":  # ╱╲: the lower half
            if diagonal((x, y - 1)) != "\\" or diagonal((x + 1, y - 1)) != "/":
                return False
    return True


def _bus(bus: _Bus, gap: Sequence[tuple[str, str, str]]) -> tuple[dict[Cell, set[str]],
                                                                  dict[Cell, set[str]]]:
    """One run from each source to the bus, the bus, one run from it to each target."""
    arms: dict[Cell, set[str]] = {}
    owners: dict[Cell, set[str]] = {}
    sources = {w[1] for w in gap}
    targets = {w[2] for w in gap}
    rows = [bus.rows[unit] for unit in sources | targets]
    top, bottom = min(rows), max(rows)

    def add(cell: Cell, cell_arms: str, names: Iterable[str]) -> None:
        arms.setdefault(cell, set()).update(cell_arms)
        owners.setdefault(cell, set()).update(names)

    for y in range(top, bottom + 1):
        add((bus.middle, y), ("N" if y > top else "") + ("S" if y < bottom else ""), ())
    for unit in sources:
        names = [w[0] for w in gap if w[1] == unit]
        for x in range(bus.x0, bus.middle):
            add((x, bus.rows[unit]), "EW", names)
        add((bus.middle, bus.rows[unit]), "W", ())
    for unit in targets:
        names = [w[0] for w in gap if w[2] == unit]
        for x in range(bus.middle + 1, bus.x1 + 1):
            add((x, bus.rows[unit]), "EW", names)
        add((bus.middle, bus.rows[unit]), "E", ())
    return arms, owners


def _labels(names: Sequence[str], paths: Mapping[str, tuple[Cell, ...]],
            arms: Mapping[Cell, set[str]], owners: Mapping[Cell, set[str]],
            taken: set[Cell]) -> dict[str, Cell]:
    """Where each weight's name sits, after a cell for its mark: over cells of its own line
    or empty ones, well clear of any other line or text. The most constrained first. Where
    one name finds no such place, the gap's lines go unnamed: a few names would read as all
    of them (the table says what each weight joins)."""
    spots = {name: _spots(name, paths[name], arms, owners, taken) for name in names}
    placed: dict[str, Cell] = {}
    used: set[Cell] = set()
    for name in sorted(names, key=lambda n: len(spots[n])):
        for x, y in spots[name]:
            cells = {(x + k, y + dy) for k in range(-1, len(name) + 2) for dy in (-1, 0, 1)}
            if not cells & used:
                placed[name] = (x, y)
                used |= {(x + k, y) for k in range(len(name) + 1)}
                break
        else:
            return {}
    return placed


def _spots(name: str, path: Sequence[Cell], arms: Mapping[Cell, set[str]],
           owners: Mapping[Cell, set[str]], taken: set[Cell]) -> list[Cell]:
    """Starts (the mark's cell) for ``name`` over its own line, best first: a third of the
    way along, on a level stretch of its own where there is one."""
    width = len(name) + 1

    def other(cell: Cell) -> bool:
        return cell in taken or owners.get(cell, {name}) != {name}

    found: list[tuple[float, Cell]] = []
    for index, (x, y) in enumerate(path):
        if owners.get((x, y)) != {name}:
            continue
        for start in range(x - width + 1, x + 1):
            cells = [(start + k, y) for k in range(width)]
            near = [(start - k, y) for k in (1, 2)] + [(start + width - 1 + k, y) for k in (1, 2)]
            if any(map(other, cells)) or any(map(other, near)):
                continue
            level = all(arms.get(cell) == {"E", "W"} for cell in (*cells, near[0], near[2]))
            place = abs(index - len(path) / 3) + abs(start + width / 2 - x - 0.5)
            found.append((place - (len(path) if level else 0), (start, y)))
    found.sort()
    return list(dict.fromkeys(spot for _, spot in found))


# The table ------------------------------------------------------------------------------


def _table(shape: _Shape, widths: _Widths, width: int) -> _Table:
    """The table's columns for this width (the caller places its rows); its items on two
    rows each where one is too narrow."""
    name = max((len(p[0]) for p in shape.params), default=1)
    joins = max((len(p[1]) for p in shape.params), default=0)
    table = _Table(0, 0, width, 0, 1, widths, name, joins, legend=0 if shape.legend else None,
                   slots=shape.slots)
    if table.item > width:
        table = replace(table, split=True)
    columns = max(1, (width + LIST_GAP) // (table.item + LIST_GAP))
    return replace(table, columns=min(columns, max(1, len(shape.params))))


# Compact and list renderings ---------------------------------------------------------


def _compact(shape: _Shape, width: int, height: int) -> _Plan:
    """No lines: the units (a column per layer when they fit, else one list) above the
    table; in a very low area, everything in one list."""
    widths = _widths(shape.digits)[1]
    layer_names = [max(len(unit) for unit in layer) for layer in shape.layers]
    unit_width = {unit: name for layer, name in zip(shape.layers, layer_names) for unit in layer}
    layer_widths = [_unit_item_width(shape, widths, index, name)
                    for index, name in enumerate(layer_names)]
    units = tuple(unit for layer in shape.layers for unit in layer)
    table = _table(shape, widths, width)
    if height < COMPACT_SPLIT:
        names = (*units, *(p[0] for p in shape.params))
        column = min(width, max(*layer_widths, table.head + table.numbers))
        columns = max(1, (width + LIST_GAP) // (column + LIST_GAP))
        return _Plan("list", widths, units=(_List(0, 0, height, columns, column, names),),
                     table=replace(table, rows=0, legend=None), unit_width=unit_width)
    legend = 1 if table.legend is not None else 0
    side = sum(layer_widths) + LIST_GAP * (len(layer_widths) - 1) <= width
    column = min(width, max(layer_widths))
    columns = max(1, (width + LIST_GAP) // (column + LIST_GAP))
    wanted = max(map(len, shape.layers)) if side else math.ceil(len(units) / columns)
    table_rows = math.ceil(len(shape.params) / table.columns) * table.height
    rows = wanted
    if wanted + 1 + legend + table_rows > height:
        rows = max(1, min(wanted, max((height - 1 - legend) // 2,
                                      height - 1 - legend - table_rows)))
    lists = []
    if side:
        x = 0
        for layer, layer_width in zip(shape.layers, layer_widths):
            lists.append(_List(x, 0, rows, 1, layer_width, tuple(layer)))
            x += layer_width + LIST_GAP
    else:
        lists.append(_List(0, 0, rows, columns, column, units))
    left = max(0, height - rows - 1 - legend)
    placed = replace(table, y=rows, rows=left, legend=rows + 1 + left if legend else None)
    return _Plan("compact", widths, table=placed, units=tuple(lists), unit_width=unit_width)


def _unit_item_width(shape: _Shape, widths: _Widths, layer: int, name: int) -> int:
    """``▶h1 0.5933  δ 0.03635``: a unit of ``layer`` in a list (an input without δ, an
    output with ``t 0.01``)."""
    if layer == 0:
        return 1 + name + 1 + max(map(len, shape.inputs), default=1)
    cells = 1 + name + 1 + widths.value + 3 + widths.delta
    if layer == len(shape.layers) - 1:
        cells += 3 + max(map(len, shape.targets), default=1)
    return cells


# Filling the places in -------------------------------------------------------------


def _mark(model: DiagramModel) -> str:
    return BACKWARD if model.backward else FORWARD


def _state(model: DiagramModel, name: str, part: str = "value") -> str:
    if name == model.focus and model.part == part:
        return "focus"
    return "touched" if name in model.touched else ""


def _hot(model: DiagramModel, name: str) -> bool:
    return name in model.touched or name == model.focus


def _fill(plan: _Plan, model: DiagramModel, width: int, height: int) -> Layout:
    canvas = _Canvas(width, height)
    lines: dict[Cell, tuple[str, bool]] = {}
    hit: dict[Cell, str] = {}
    if plan.mode == "drawn":
        _fill_drawing(plan, model, canvas, lines, hit)
    elif plan.mode == "compact":
        _fill_units(plan, model, canvas)
    else:
        _fill_list(plan, model, canvas)
    if plan.table is not None and plan.mode != "list":
        _fill_table(plan.table, model, canvas)
    for span in canvas.spans:
        if span.element is not None:
            hit.update(dict.fromkeys(zip(range(span.x, span.end), repeat(span.y)),
                                     span.element))
    lines = {cell: value for cell, value in lines.items() if 0 <= cell[0] < width
             and 0 <= cell[1] < height}
    hit = {cell: name for cell, name in hit.items() if 0 <= cell[0] < width
           and 0 <= cell[1] < height}
    return Layout(width, height, plan.mode, tuple(canvas.spans), lines, hit)


def _fill_drawing(plan: _Plan, model: DiagramModel, canvas: _Canvas,
                  lines: dict[Cell, tuple[str, bool]], hit: dict[Cell, str]) -> None:
    mark = _mark(model)
    hot = [w for w in model.weights if w.name in plan.ports and _hot(model, w.name)]
    heavy: set[Cell] = set()
    for weight in hot:
        if weight.name in plan.paths:
            heavy.update(plan.paths[weight.name])
        elif weight.name in plan.buses and weight.source is not None:
            heavy.update(plan.buses[weight.name].path(weight.source, weight.feeds[0]))
    arms = dict(plan.arms)
    owners = dict(plan.owners)
    arrowheads: dict[str, Cell] = {}  # unit -> where a backward flow reaches it
    # Backwards, a unit the flow only reaches (from a connection it feeds) is marked by the
    # arrowhead after its value: a ◀ on its left would say the flow goes on to the left.
    reached_only = {w.source for w in hot} - {w.feeds[0] for w in hot} if (
        model.backward) else set()
    for unit, block in plan.blocks.items():
        value = model.values.get(unit)
        text = _shown(value, model.digits, block.end - block.field)
        state = _state(model, unit)
        edge = mark if state and unit not in reached_only else EDGE if block.incoming else " "
        canvas.put(Span(block.x, block.y, f"{edge}{unit.ljust(block.name_width)} {text}", unit,
                        state))
        if block.outgoing:  # the value's unused cells carry its connections
            if block.field + len(text) < block.end:
                arrowheads[unit] = (block.field + len(text), block.y)
            leaving = frozenset(w.name for w in model.weights if w.source == unit)
            for x in range(block.field + len(text), block.end):
                arms[(x, block.y)] = "EW"
                owners[(x, block.y)] = leaving
                if leaving & {w.name for w in hot}:
                    heavy.add((x, block.y))
        for row, kind in enumerate(block.rows[1:], 1):
            canvas.put(_unit_row(model, unit, kind, block.x, block.y + row,
                                 block.end - block.x))
    for cell, cell_arms in arms.items():
        lines[cell] = (_glyph(cell_arms, cell in heavy), cell in heavy)
        names = owners.get(cell, frozenset())
        if len(names) == 1:
            hit[cell] = next(iter(names))
    lines.update(_bracket(plan, model))
    if model.backward:  # the flow reaches each source from its connections' side
        for weight in hot:
            lines[arrowheads.get(weight.source or "", plan.ports[weight.name])] = (BACKWARD, True)
    hot_names = {w.name for w in hot}
    for name, (x, y) in plan.labels.items():
        if name in hot_names:
            canvas.put(Span(x, y, mark + name, name, "touched"))
        else:
            canvas.put(Span(x + 1, y, name, name))


def _bracket(plan: _Plan, model: DiagramModel) -> dict[Cell, tuple[str, bool]]:
    """The bracket right of a softmax layer's outputs, joining them: ``╮ │ ┤ │ ╯``, one
    tee at each output's name. Every output of the layer depends on every net of it; while
    a step is about that (``model.coupling``), the bracket is heavy (``┓ ┃ ┫ ┛``) and
    highlighted, not only coloured."""
    blocks = [plan.blocks[unit] for unit in model.coupled if unit in plan.blocks]
    if len(blocks) < 2:
        return {}
    x = blocks[0].end + BRACKET_ROOM - 1
    rows = {block.y for block in blocks}
    top, bottom = min(rows), max(rows)
    hot = bool(model.coupling)
    cells = {}
    for y in range(top, bottom + 1):
        arms = ("N" if y > top else "") + ("S" if y < bottom else "") + ("W" if y in rows else "")
        cells[(x, y)] = (_glyph(arms, hot), hot)
    return cells


def _unit_row(model: DiagramModel, unit: str, kind: str, x: int, y: int, cells: int) -> Span:
    """``δ 0.03635`` or ``t 0.01`` under a unit's name: its δ, or an output's target."""
    if kind == "delta":
        text = _shown(model.deltas.get(unit), model.digits, cells - 3)
        state = _state(model, unit, "delta")
        if state == "touched" and not model.backward:
            state = ""
        return Span(x, y, f" {DELTA} {text}", keys.text(keys.unit("delta", unit)), state)
    target = model.targets.get(unit)
    text = PLACEHOLDER if target is None else fmt(target, model.digits)
    state = "touched" if unit in model.touched and not model.part else ""
    return Span(x, y, f" {TARGET} {text}", keys.text(keys.unit("target", unit)), state)


def _parameters(model: DiagramModel) -> list[Parameter]:
    return [*model.weights, *model.biases]


def _fill_table(table: _Table, model: DiagramModel, canvas: _Canvas) -> None:
    """The header (η and the columns' titles over a rule), a page of items, the legend."""
    params = _parameters(model)
    if 0 <= table.y < canvas.height:
        _header(table, model, canvas)
    if table.capacity <= 0:
        return
    page = _window(len(params), table.capacity, _anchor(model, [p.name for p in params]))
    right = table.x + table.width
    for k, entry in enumerate(page):
        x, y = table.place(k)
        if isinstance(entry, int):
            for span in _item(table, params[entry], model, x, y):
                canvas.put(_clip(span, min(right, x + table.item)))
        else:
            canvas.put(_clip(Span(x, y, entry, None, "dim"), right))
    used = [p for p in params if p.used]
    if table.legend is not None and used:
        canvas.put(_clip(Span(table.x, table.legend, _legend(used, table.width)), right))


def _header(table: _Table, model: DiagramModel, canvas: _Canvas) -> None:
    """``─ η 0.5 ─── value ─ new ─── gradient ─``: a rule under the drawing, with each
    column's title and the learning rate (click it to edit): at the left, or after the
    titles where an item's numbers start under it."""
    y = table.y
    right = min(canvas.width, table.x + table.width)
    titles = []
    for column in range(table.columns):
        x, _ = table.numbers_at(table.x + column * (table.item + LIST_GAP), y)
        value = table.widths.value
        titles.append(Span(x + value + 1 - len(" value"), y, " value ", None, "dim"))
        titles.append(Span(x + table.old + len(TO) - 1, y, " new ", None, "dim"))
        end = x + table.gradient_end
        gradient = " gradient " if end < table.x + table.width else " gradient"
        titles.append(Span(end - len(" gradient"), y, gradient, None, "dim"))
        for k, slot in enumerate(table.slots):  # over the number's last digit
            last = end + (k + 1) * table.state - len(NEW_STATE) - 1
            titles.append(Span(last - len(slot), y, f" {slot} ", None, "dim"))
    placed = [span for span in titles if span.end <= right and canvas.put(span)]
    if model.eta is not None:
        eta = f" {ETA} {fmt(model.eta, model.digits)} "
        after = max((span.end for span in placed), default=table.x) + 1
        for x in (table.x + 1, after):
            span = Span(x, y, eta, keys.text(keys.ETA))
            if span.end <= right and canvas.put(span):
                placed.append(span)
                break
    rule = [(table.x, right)]
    for span in placed:
        rule = _cut(rule, span.x, span.end)
    for start, end in rule:
        canvas.put(Span(start, y, "─" * (end - start), None, "dim"))


def _cut(runs: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """``runs`` without [start, end)."""
    left = []
    for a, b in runs:
        if b <= start or end <= a:
            left.append((a, b))
            continue
        if a < start:
            left.append((a, start))
        if end < b:
            left.append((end, b))
    return left


def _legend(used: Sequence[Parameter], room: int) -> str:
    """What the brackets mean: the value of a weight (or bias) this step uses; said in full
    where ``room`` allows."""
    names = ", ".join(p.name for p in used)
    if used[0].used == "old":
        new = ", ".join(p.new_symbol or keys.symbol(keys.parameter(p.name).new) for p in used)
        full = f"[ ] still the old {names} here: {new} takes effect at apply"
        short = f"[ ] used here: the old {names}, not {new}"
    else:
        full = f"[ ] the new {names} here: updated during the backward pass"
        short = f"[ ] used here: the new {names}"
    return full if len(full) <= room else short


def _item(table: _Table, param: Parameter, model: DiagramModel, x: int, y: int) -> list[Span]:
    """``▶w5 h1→o1 [0.4]→ 0.3589  0.08217``, in spans by what a click selects."""
    widths = table.widths
    digits = model.digits
    state = "touched" if _hot(model, param.name) else ""
    mark = _mark(model) if state else " "
    spans = [Span(x, y, f"{mark}{param.name.ljust(table.name)} {_joins(param)}", param.name,
                  state)]
    at, row = table.numbers_at(x, y)
    old = fit(param.value, digits, widths.value)
    old = f"[{old}]" if param.used == "old" else f"{old} "
    spans.append(Span(at, row, old.rjust(table.old), param.name, state))
    at += table.old
    if param.updates:
        new = _shown(param.new, digits, widths.value)
        new = f"[{new}]" if param.used == "new" else new
        spans.append(Span(at, row, f"{TO}{new}", param.name, _state(model, param.name, "new"),
                          len(TO) if param.new is not None else -1))
    else:
        spans.append(Span(at + len(TO), row, FIXED, param.name, "dim"))
    gradient = _shown(param.gradient, digits, widths.gradient)
    spans.append(Span(at + len(TO) + widths.value + 1, row, gradient.rjust(widths.gradient),
                      _gradient_name(param.name),
                      _state(model, param.name, "gradient")))
    at += table.gradient_end - table.old + 1
    for slot, (value, fresh) in zip(table.slots, param.state):
        text = fit(value, digits, widths.gradient).rjust(widths.gradient)
        spans.append(Span(at, row, text + (NEW_STATE if fresh else " "),
                          keys.text(keys.Key(f"new_{slot}", param=param.name)),
                          _state(model, param.name, slot), 0 if fresh else -1))
        at += table.state
    return spans


@lru_cache(maxsize=1024)
def _gradient_name(name: str) -> str:
    """What a click on a parameter's gradient selects: ``dE/dw5`` for ``w5``."""
    return keys.text(keys.parameter(name).gradient)


def _unit_item(model: DiagramModel, unit: str, name_width: int, widths: _Widths) -> Span:
    """``▶h1 0.5933  δ 0.03635``: a unit in a list (``t 0.01`` after an output's)."""
    state = _state(model, unit)
    if _state(model, unit, "delta") == "focus":
        state = "focus"
    mark = _mark(model) if _hot(model, unit) else " "
    value = _shown(model.values.get(unit), model.digits, widths.value)
    text = f"{mark}{unit.ljust(name_width)} {value}"
    if unit in model.deltas:
        delta = _shown(model.deltas.get(unit), model.digits, widths.delta)
        text = f"{text.ljust(1 + name_width + 1 + widths.value)} {DELTA} {delta}"
    if unit in model.targets:
        target = fmt(model.targets[unit], model.digits)
        text = f"{text.ljust(1 + name_width + 1 + widths.value + 3 + widths.delta)}" \
               f" {TARGET} {target}"
    return Span(0, 0, text, unit, state)


def _fill_units(plan: _Plan, model: DiagramModel, canvas: _Canvas) -> None:
    for group in plan.units:
        items = [_unit_item(model, unit, plan.unit_width[unit], plan.widths)
                 for unit in group.names]
        _flow(canvas, items, group, _anchor(model, list(group.names)))


def _fill_list(plan: _Plan, model: DiagramModel, canvas: _Canvas) -> None:
    """Everything in one list: the units, then the weights and biases (their numbers
    after their names)."""
    (group,) = plan.units
    params = {p.name: p for p in _parameters(model)}
    table = plan.table
    assert table is not None
    items = []
    for name in group.names:
        if name in params:
            spans = _item(replace(table, split=False), params[name], model, 0, 0)
            text = "".join(span.text for span in spans)
            items.append(Span(0, 0, text, name, spans[0].state))
        else:
            items.append(_unit_item(model, name, plan.unit_width[name], plan.widths))
    _flow(canvas, items, group, _anchor(model, list(group.names)))


def _flow(canvas: _Canvas, items: Sequence[Span], group: _List, anchor: int) -> None:
    """Items top to bottom in the group's columns, the page holding ``anchor`` if not all
    fit."""
    if group.rows <= 0 or group.width <= 0:
        return
    page = _window(len(items), group.rows * group.columns, anchor)
    for k, entry in enumerate(page):
        x = group.x + (k // group.rows) * (group.width + LIST_GAP)
        y = group.y + k % group.rows
        if isinstance(entry, int):
            canvas.put(_clip(replace(items[entry], x=x, y=y), x + group.width))
        else:
            canvas.put(_clip(Span(x, y, entry, None, "dim"), x + group.width))


def _clip(span: Span, right: int) -> Span:
    """The span cut at column ``right``, ending in "…" when something was cut."""
    room = right - span.x
    if len(span.text) <= room:
        return span
    text = span.text[: room - 1] + "…" if room > 1 else "…"[: max(0, room)]
    return replace(span, text=text, new_at=span.new_at if 0 <= span.new_at < room else -1)


def _anchor(model: DiagramModel, names: Sequence[str]) -> int:
    """Which item a page must show: the focus, else the first touched."""
    if model.focus in names:
        return names.index(model.focus)
    return next((k for k, name in enumerate(names) if name in model.touched), 0)


def _pages(count: int, room: int) -> list[tuple[int, int]]:
    """Fixed pages of ``count`` items in ``room`` places: [start, stop) each. A page leaves a
    place for "⋮ N more" where items come before it and after it; the last one is full,
    repeating items of the page before it rather than leaving places empty."""
    if count <= room:
        return [(0, count)]
    if room < 3:
        return [(start, min(start + room, count)) for start in range(0, count, room)]
    pages = [(0, room - 1)]
    while count - pages[-1][1] > room - 1:
        start = pages[-1][1]
        pages.append((start, start + room - 2))
    pages.append((count - room + 1, count))
    return pages


def _window(count: int, room: int, anchor: int) -> list[int | str]:
    """The items of the page holding ``anchor`` (an item keeps its place while its page is
    shown), with "⋮ N more" for the items before and after it."""
    pages = _pages(count, room)
    start, stop = next((page for page in pages if page[0] <= anchor < page[1]), pages[0])
    shown: list[int | str] = [MORE.format(start)] if start and room >= 3 else []
    shown += range(start, stop)
    if stop < count and room >= 3:
        shown.append(MORE.format(count - stop))
    return shown


# The widget ---------------------------------------------------------------------------


class NetworkDiagram(Widget):
    """The network as boxes and lines; the app feeds it a DiagramModel after every step."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diagram--touched",
        "diagram--focus",
        "diagram--dim",
        "diagram--new",
        "diagram--hover",
    }

    DEFAULT_CSS = """
    NetworkDiagram {
        width: 1fr;
        height: 1fr;
    }
    NetworkDiagram > .diagram--touched {
        color: $text-accent;
        text-style: bold;
    }
    NetworkDiagram > .diagram--focus {
        color: $text-warning;
        text-style: bold reverse;
    }
    NetworkDiagram > .diagram--dim {
        color: $text-muted;
    }
    NetworkDiagram > .diagram--new {
        color: $text-success;
        text-style: bold;
    }
    NetworkDiagram > .diagram--hover {
        background: $primary-muted;
        text-style: underline;
    }
    """

    can_focus = False

    class Clicked(Message):
        """A unit, weight or bias was clicked."""

        def __init__(self, element: str) -> None:
            super().__init__()
            self.element = element

    class DoubleClicked(Message):
        """A unit, weight or bias was double-clicked (to edit its value)."""

        def __init__(self, element: str) -> None:
            super().__init__()
            self.element = element

    def __init__(
        self,
        model: DiagramModel | None = None,
        *,
        heading: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._model = model
        self.heading = heading  # its border title's first words, the model's caption after
        self._layout = Layout(0, 0, "empty")
        self._painted: tuple[tuple[int, int, DiagramModel | None], list[Strip]] | None = None
        self._styles: dict[str, Style] | None = None  # the component classes' (per theme)
        self._first_click: str | None = None
        self._hover: str | None = None  # the element under the mouse
        # The hovered element's runs of cells, by row, in the layout they were found in.
        self._hover_runs: tuple[Layout, str | None, dict[int, list[tuple[int, int]]]] | None = None

    @property
    def current_layout(self) -> Layout:
        """The layout last painted: what a click at a cell selects."""
        return self._layout

    def show(self, model: DiagramModel) -> None:
        """Show ``model``; the app calls this on every key, so an unchanged model is free.
        Once painted, it paints the new model at once and has only the rows that changed
        drawn again (a step changes a few: its marks, its lines, the numbers it fills in)."""
        if model == self._model:
            return
        self._model = model
        self._title()
        self._hover_tip()
        painted = self._painted
        if painted is None or painted[0][:2] != tuple(self.size):
            self.refresh()
            return
        before = painted[1]
        after = self._paint()
        refresh_rows(self, (y for y, strip in enumerate(after)
                            if y >= len(before) or strip is not before[y]), self.size.width)

    def on_resize(self) -> None:
        self._title()

    def _title(self) -> None:
        """The border title: the heading, then whose values it shows (several examples)
        and what a softmax layer's coupling means at this step, in fewer words where the
        panel is narrow."""
        model = self._model
        if model is None or not self.heading:
            return
        width = self.outer_size.width
        title = self.heading
        for coupling in (model.coupling, model.coupling_short):
            title = " · ".join(filter(None, (self.heading, model.caption, coupling)))
            if not width or cell_len(title) + TITLE_MARGIN <= width:
                break
        if self.border_title != title:
            self.border_title = title

    def render_line(self, y: int) -> Strip:
        """Line API: the rows are painted once per model and size, then only handed out."""
        width, height = self.size
        painted = self._painted
        if painted is None or painted[0] != (width, height, self._model):
            strips = self._paint()
        else:
            strips = painted[1]
        if y >= len(strips):
            return Strip.blank(width, self.rich_style)
        return self._hovered(strips[y], y)

    def _paint(self) -> list[Strip]:
        """Lay out and paint the model at the widget's size; a row that comes out as it was
        keeps its strip (the same object: see ``show``)."""
        width, height = self.size
        if self._styles is None:
            self._styles = {name: self.get_component_rich_style(name)
                            for name in self.COMPONENT_CLASSES}
        if self._model is None:
            self._layout = Layout(width, height, "empty")
        else:
            self._layout = layout(self._model, width, height)
        painted = self._painted
        before = painted[1] if painted is not None and painted[0][:2] == (width, height) else []
        strips = paint(self._layout, self._styles, self.rich_style, before)
        self._painted = ((width, height, self._model), strips)
        return strips

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painted = self._styles = None  # a new theme, or focus: paint again

    # Hover: the element under the mouse marked, and a tooltip saying what it is -------------

    def on_mouse_move(self, event: events.MouseMove) -> None:
        offset = event.get_content_offset(self)
        self._hover_on(None if offset is None else self._layout.hit.get((offset.x, offset.y)))

    def on_leave(self, event: events.Leave) -> None:
        self._hover_on(None)

    def _hover_on(self, element: str | None) -> None:
        if element != self._hover:
            self._hover = element
            self._hover_tip()
            self.refresh()

    def _hover_tip(self) -> None:
        model, element = self._model, self._hover
        # Text: read as it is, never as markup (a name's "[2]" stays).
        self.tooltip = (None if model is None or element is None
                        else Text(hover_text(model, element)))

    def _hovered(self, strip: Strip, y: int) -> Strip:
        """Row ``y`` with the hovered element's cells in the hover style (underlined, over
        their own style): a unit's block, a weight's line, label and table row."""
        if self._hover is None:
            return strip
        found = self._hover_runs
        if found is None or found[0] is not self._layout or found[1] != self._hover:
            found = (self._layout, self._hover, _runs(self._layout, self._hover))
            self._hover_runs = found
        runs = found[2].get(y)
        if not runs:
            return strip
        hover = self.get_component_rich_style("diagram--hover")
        cuts = sorted({cut for run in runs for cut in run} | {strip.cell_length})
        parts = strip.divide(cuts)
        starts = [0, *cuts[:-1]]
        hot = {start for start, _ in runs}
        return Strip.join(
            Strip(Segment.apply_style(list(part), post_style=hover), part.cell_length)
            if start in hot else part for start, part in zip(starts, parts, strict=True))

    def on_click(self, event: events.Click) -> None:
        if event.chain == 2:
            # The first click may have moved the picture (it goes to a step): the second
            # one means the element the first one hit.
            if self._first_click is not None:
                self.post_message(self.DoubleClicked(self._first_click))
            return
        offset = event.get_content_offset(self)
        element = None if offset is None else self._layout.hit.get((offset.x, offset.y))
        self._first_click = element
        if element is not None:
            self.post_message(self.Clicked(element))


def _runs(layout: Layout, element: str) -> dict[int, list[tuple[int, int]]]:
    """The cells that select ``element``, as runs (start, end) by row."""
    rows: dict[int, list[int]] = {}
    for (x, y), hit in layout.hit.items():
        if hit == element:
            rows.setdefault(y, []).append(x)
    runs: dict[int, list[tuple[int, int]]] = {}
    for y, xs in rows.items():
        xs.sort()
        start = previous = xs[0]
        for x in xs[1:]:
            if x != previous + 1:
                runs.setdefault(y, []).append((start, previous + 1))
                start = x
            previous = x
        runs.setdefault(y, []).append((start, previous + 1))
    return runs


CLICK = "click: go to its step"
EDIT = "double-click: edit"


def hover_text(model: DiagramModel, element: str) -> str:
    """What hovering ``element`` says, from the model's own values: 'w5 = 0.4 · h1 → o1 ·
    click: go to its step · double-click: edit'."""

    def shown(value: float | None) -> str:
        return PLACEHOLDER if value is None else fmt(value, model.digits)

    try:
        key = keys.parse(element)
    except keys.NotAKey:
        return f"{element} · {CLICK}"
    parameters = {p.name: p for p in (*model.weights, *model.biases)}
    param = parameters.get(key.param)
    if key.kind in ("weight", "bias") and param is not None:
        value = f"{param.name} = {shown(param.value)}"
        if param.new is not None:
            value += f" → {shown(param.new)}"
        joins = (f"{param.source} → {param.feeds[0]}" if param.source is not None
                 else f"added to {', '.join(param.feeds)}" + ("" if param.updates
                                                              else ", fixed"))
        return " · ".join((value, joins, CLICK, EDIT))
    if key.kind in ("grad_w", "grad_b") and param is not None:
        return f"{keys.symbol(key)} = {shown(param.gradient)} · {CLICK}"
    if key.kind in ("new_v", "new_m", "new_s") and param is not None:
        slot = key.kind.removeprefix("new_")
        if slot in model.slots and len(param.state) == len(model.slots):
            state, new = param.state[model.slots.index(slot)]
            name = keys.symbol(key) if new else keys.symbol(keys.Key(slot, param=param.name))
            return f"{name} = {shown(state)} · {CLICK}"
    if key.kind == "input":
        return f"{key.unit} = {shown(model.values.get(key.unit))} · an input · {CLICK} · {EDIT}"
    if key.kind == "out":
        parts = [f"{keys.symbol(key)} = {shown(model.values.get(key.unit))}"]
        if key.unit in model.deltas:
            parts.append(f"δ = {shown(model.deltas[key.unit])}")
        if key.unit in model.targets:
            parts.append(f"target {shown(model.targets[key.unit])}")
        return " · ".join((*parts, CLICK))
    if key.kind == "delta":
        return f"{keys.symbol(key)} = {shown(model.deltas.get(key.unit))} · {CLICK}"
    if key.kind == "target":
        return (f"{keys.symbol(key)} = {shown(model.targets.get(key.unit))} · the target · "
                f"{CLICK} · {EDIT}")
    if key.kind == "eta":
        return f"η = {shown(model.eta)} · the learning rate · {CLICK} · {EDIT}"
    return f"{keys.symbol(key)} · {CLICK}"


def paint(layout: Layout, styles: Mapping[str, Style], base: Style,
          before: Sequence[Strip] = ()) -> list[Strip]:
    """The layout as styled rows: lines dim (touched ones highlighted), text over them. A
    row the same as in ``before`` (the rows painted last, at the same size) is that strip."""
    chars = [[" "] * layout.width for _ in range(layout.height)]
    looks: list[list[Style | None]] = [[None] * layout.width for _ in range(layout.height)]
    dim, touched = styles["diagram--dim"], styles["diagram--touched"]
    for (x, y), (glyph, hot) in layout.lines.items():
        chars[y][x] = glyph
        looks[y][x] = touched if hot else dim
    for span in layout.spans:
        state = styles[f"diagram--{span.state}"] if span.state else None
        new = styles["diagram--new"] if state is None else state
        if span.state == "touched":
            new = styles["diagram--touched"] + styles["diagram--new"]
        for k, char in enumerate(span.text):
            chars[span.y][span.x + k] = char
            looks[span.y][span.x + k] = new if 0 <= span.new_at <= k else state
    combined: dict[int, Style] = {}  # each look over the widget's own style, made once
    strips: list[Strip] = []
    for row, row_looks in zip(chars, looks, strict=True):
        segments = []
        start = 0
        for x in range(1, layout.width + 1):
            if x == layout.width or row_looks[x] is not row_looks[start]:
                look = row_looks[start]
                style = combined.get(id(look))
                if style is None:
                    style = combined[id(look)] = base if look is None else base + look
                segments.append(Segment("".join(row[start:x]), style))
                start = x
        y = len(strips)
        same = y < len(before) and list(before[y]) == segments
        strips.append(before[y] if same else Strip(segments, layout.width))
    return strips

