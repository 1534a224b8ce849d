"""The network diagram: units in columns, weighted connections between them, biases below.

``layout`` is pure (no Textual): it places every piece of text and every line cell on a grid
of the given size, so tests can check overlaps and clicks without running an app.
``NetworkDiagram`` only paints a layout in the theme's styles and turns clicks into messages.
The widget does no math: it lays out and formats the numbers the app hands it.

Three renderings, tried in order until one fits:

- *labelled*: every connection is a straight line carrying its weight's label (layers of
  at most 3 units, and room for every label);
- *listed*: the same boxes, lines (or, between big layers or in narrow gaps, one shared
  bus), labels on the touched connections only, and all weights in a list beside or below;
- *compact*: no lines, one column of units per layer (or a single list) and the weights.

Touched elements carry a ▶ and heavy lines, the focus is reverse video: never colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from backprop_tui.app.view_model import DiagramModel
from backprop_tui.numbers import fmt

MARK = "▶"  # touched, without relying on colour
PLACEHOLDER = "·"  # a value not computed yet this epoch
ARROW = " → "
MORE = "⋮ {} more"
MIN_GAP = 5  # a stub, three cells of line, a stub
MESH_GAP = 10  # narrower gaps join their connections on a bus rather than crossing lines
LIST_GAP = 2  # between list columns, and between the diagram and its list
MAX_LABELLED_UNITS = 3  # larger layers only label the touched connections
COMPACT_SPLIT = 5  # lower than this, the compact rendering is a single list

# Line cells are stored as the directions they reach (N, E, S, W) and diagonals (\, /),
# so crossing and branching lines merge into one glyph.
_ARMS = ("E", "W", "N", "S", "EW", "NS", "SW", "NE", "NW", "ES", "ESW", "NEW", "NES", "NSW", "NESW")
_LIGHT = dict(zip(_ARMS, "──││─│╮╰╯╭┬┴├┤┼"))
_HEAVY = dict(zip(_ARMS, "━━┃┃━┃┓┗┛┏┳┻┣┫╋"))  # a touched weight's line
_ORDER = "NESW"

Weight = tuple[str, str, str, float, float | None]
Bias = tuple[str, tuple[str, ...], float, float | None]
Cell = tuple[int, int]


@dataclass(frozen=True)
class Span:
    """One run of text on one row; clicking it selects ``element``."""

    x: int
    y: int
    text: str
    element: str | None = None
    state: str = ""  # "", "touched", "focus" or "dim": how the painter styles it
    new_at: int = -1  # where the "→ new value" part starts, -1 without one

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
    """Collects spans and line cells while a layout is built; refuses text that overlaps."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.spans: list[Span] = []
        self.taken: dict[int, list[tuple[int, int]]] = {}  # row -> [start, end) of spans
        self.arms: dict[Cell, set[str]] = {}
        self.owners: dict[Cell, set[str]] = {}
        self.touched_cells: set[Cell] = set()

    def free(self, x: int, y: int, width: int, margin: int = 0) -> bool:
        """Whether ``width`` cells at (x, y) are inside the grid and ``margin`` from any text."""
        if x < 0 or y < 0 or y >= self.height or x + width > self.width:
            return False
        return all(
            x + width + margin <= start or end + margin <= x
            for start, end in self.taken.get(y, ())
        )

    def put(self, span: Span, margin: int = 0) -> bool:
        if not span.text or not self.free(span.x, span.y, len(span.text), margin):
            return False
        self.spans.append(span)
        self.taken.setdefault(span.y, []).append((span.x, span.end))
        return True

    def draw(
        self, cells: Iterable[tuple[int, int, str]], owner: str | None, touched: bool
    ) -> None:
        """Add line cells; ``owner`` is the weight a click on them selects, if any."""
        for x, y, arms in cells:
            self.arms.setdefault((x, y), set()).update(arms)
            if owner is not None:
                self.owners.setdefault((x, y), set()).add(owner)
            if touched:
                self.touched_cells.add((x, y))

    def finish(self, mode: str) -> Layout:
        lines = {
            cell: (_glyph(arms, cell in self.touched_cells), cell in self.touched_cells)
            for cell, arms in self.arms.items()
        }
        hit = {cell: next(iter(names)) for cell, names in self.owners.items() if len(names) == 1}
        for span in self.spans:
            if span.element is not None:
                hit.update({(x, span.y): span.element for x in range(span.x, span.end)})
        return Layout(self.width, self.height, mode, tuple(self.spans), lines, hit)


def _glyph(arms: set[str], heavy: bool) -> str:
    """One character for everything that passes through a cell.

    A straight line wins over a diagonal crossing it: the diagonal shows on both sides.
    """
    key = "".join(direction for direction in _ORDER if direction in arms)
    if key:
        return (_HEAVY if heavy else _LIGHT)[key]
    if "\\" in arms and "/" in arms:
        return "╳"
    return "╲" if "\\" in arms else "╱"


def layout(model: DiagramModel, width: int, height: int) -> Layout:
    """Place the model on a ``width`` × ``height`` grid in the richest rendering that fits."""
    width, height = max(0, width), max(0, height)
    if not all(model.layers):
        model = replace(model, layers=tuple(units for units in model.layers if units))
    if width == 0 or height == 0 or not model.layers:
        return Layout(width, height, "empty")
    return (
        _labelled(model, width, height)
        or _listed(model, width, height)
        or _compact(model, width, height)
    )


# Text of units, weights and biases.


def _value(value: float | None, digits: int) -> str:
    return PLACEHOLDER if value is None else fmt(value, digits)


def _state(model: DiagramModel, name: str) -> str:
    if name == model.focus:
        return "focus"
    return "touched" if name in model.touched else ""


def _item(
    model: DiagramModel, name: str, value: float | None, new: float | None, pad: int = 0
) -> Span:
    """``▶w5 0.4 → 0.3589`` (not yet placed): a marker slot, the name, the value(s)."""
    state = _state(model, name)
    head = f"{MARK if state else ' '}{name.ljust(pad)} {_value(value, model.digits)}"
    if new is None:
        return Span(0, 0, head, name, state)
    return Span(0, 0, head + ARROW + fmt(new, model.digits), name, state, len(head))


def _weight_items(model: DiagramModel, weights: Sequence[Weight]) -> list[Span]:
    pad = max((len(w[0]) for w in weights), default=0)
    return [_item(model, name, value, new, pad) for name, _, _, value, new in weights]


def _bias_items(model: DiagramModel, biases: Sequence[Bias], pad: int = 0) -> list[Span]:
    return [_item(model, name, value, new, pad) for name, _, value, new in biases]


def _unit_items(model: DiagramModel, units: Sequence[str], pad: int) -> list[Span]:
    return [_item(model, unit, model.values.get(unit), None, pad) for unit in units]


def _clip(span: Span, width: int) -> Span:
    """The span cut to ``width`` cells, ending in "…" when something was cut."""
    if len(span.text) <= width:
        return span
    text = span.text[: width - 1] + "…" if width > 1 else "…"[:width]
    return replace(span, text=text, new_at=span.new_at if 0 <= span.new_at < width else -1)


# Geometry shared by the labelled and listed renderings.


@dataclass(frozen=True)
class _Boxes:
    """Where each unit's box is: its row and the columns of its left and right edges."""

    rows: dict[str, int]
    left: dict[str, int]
    right: dict[str, int]
    layer: dict[str, int]


def _layer_of(model: DiagramModel) -> dict[str, int]:
    return {unit: index for index, units in enumerate(model.layers) for unit in units}


def _band(model: DiagramModel, biases: Sequence[Bias]) -> list[list[Bias]]:
    """The biases under each layer's column: a bias sits under the units it feeds."""
    layer_of = _layer_of(model)
    band: list[list[Bias]] = [[] for _ in model.layers]
    for bias in biases:
        layers = [layer_of[unit] for unit in bias[1] if unit in layer_of]
        band[layers[0] if layers else len(band) - 1].append(bias)
    return band


def _unit_boxes(model: DiagramModel) -> list[list[str]]:
    """``┤h1 0.5933├`` per unit; within a column names and values line up.

    A column still waiting for values keeps room for ``digits`` significant digits, so the
    boxes do not widen as the forward pass fills them in.
    """
    columns = []
    for units in model.layers:
        values = [model.values.get(unit) for unit in units]
        texts = [_value(value, model.digits) for value in values]
        known = [len(text) for text, value in zip(texts, values) if value is not None]
        value_width = max(known, default=0)
        if len(known) < len(values):
            value_width = max(value_width, model.digits + 2)
        name_width = max(len(unit) for unit in units)
        columns.append([
            f"{MARK if _state(model, unit) else '┤'}{unit.ljust(name_width)} "
            f"{text.ljust(value_width)}├"
            for unit, text in zip(units, texts)
        ])
    return columns


def _diagram(
    model: DiagramModel,
    canvas: _Canvas,
    area: tuple[int, int, int, int],
    band: list[list[Bias]],
    label_all: bool,
) -> bool:
    """Draw boxes, lines, labels and the bias band in ``area``; False if it does not fit."""
    x0, y0, width, height = area
    boxes = _unit_boxes(model)
    widths = [max(len(text) for text in column) for column in boxes]
    body = height - max(map(len, band))
    spare = width - sum(widths)
    if body < 2 * max(map(len, model.layers)) - 1 or spare < MIN_GAP * (len(widths) - 1):
        return False
    lefts = [x0 + sum(widths[:k]) + (spare * k // (len(widths) - 1) if k else 0)
             for k in range(len(widths))]
    geometry = _Boxes({}, {}, {}, {})
    for index, (units, texts, left) in enumerate(zip(model.layers, boxes, lefts)):
        for j, (unit, text) in enumerate(zip(units, texts)):
            row = y0 + (2 * j + 1) * body // (2 * len(units))
            geometry.rows[unit], geometry.left[unit] = row, left
            geometry.right[unit] = left + len(text) - 1
            geometry.layer[unit] = index
            canvas.put(Span(left, row, text, unit, _state(model, unit)))
    top = min(y0 + body, max(geometry.rows.values()) + 2)  # the band just under the lowest box
    for left, column_width, biases in zip(lefts, widths, band):
        centre = left + column_width // 2
        for k, bias in enumerate(_bias_items(model, biases)):
            x = min(max(x0, centre - len(bias.text) // 2), x0 + width - len(bias.text))
            if not canvas.put(replace(bias, x=x, y=top + k), margin=1):
                return False
    links = _connections(model, canvas, geometry)
    if label_all and len(links) < len(model.weights):
        return False
    wanted = [w for w in model.weights if w[0] in links and (label_all or _hot(model, w[0]))]
    return _place_labels(model, canvas, wanted, links) or not label_all


@dataclass(frozen=True)
class _Link:
    """A drawn connection: its cells, and where on a shared bus its label may sit."""

    cells: list[tuple[int, int, str]]
    stubs: tuple[tuple[int, int, int], ...] = ()  # (row, first, last column) of a bare stub
    bus: bool = False


def _connections(model: DiagramModel, canvas: _Canvas, boxes: _Boxes) -> dict[str, _Link]:
    """Draw every weight between consecutive layers.

    Between small layers each weight is its own straight line; where a layer has more than
    MAX_LABELLED_UNITS units or the gap is narrow, all of them meet on one vertical bus
    instead, since dozens of (or steep) crossing lines read as noise. Weights skipping a
    layer are not drawn.
    """
    gaps: dict[int, list[Weight]] = {}
    for weight in model.weights:
        source, target = weight[1], weight[2]
        if source in boxes.layer and boxes.layer.get(target) == boxes.layer[source] + 1:
            gaps.setdefault(boxes.layer[source], []).append(weight)
    links = {}
    for index, weights in gaps.items():
        sizes = len(model.layers[index]), len(model.layers[index + 1])
        span = boxes.left[weights[0][2]] - boxes.right[weights[0][1]] - 1
        if max(sizes) > MAX_LABELLED_UNITS or span < MESH_GAP:
            links.update(_bus(model, canvas, boxes, weights))
            continue
        for name, source, target, _, _ in weights:
            start = (boxes.right[source] + 1, boxes.rows[source])
            end = (boxes.left[target] - 1, boxes.rows[target])
            links[name] = _Link(_route(start, end))
            canvas.draw(links[name].cells, name, _hot(model, name))
    return links


def _hot(model: DiagramModel, name: str) -> bool:
    return name in model.touched or name == model.focus


def _bus(
    model: DiagramModel, canvas: _Canvas, boxes: _Boxes, weights: Sequence[Weight]
) -> dict[str, _Link]:
    """One stub per unit joined by a vertical bus mid-gap; touched weights traced on it.

    Only touched weights get cells of their own (source stub, a stretch of bus, target
    stub), so a 64 × 64 gap costs no more than its stubs. A touched weight's label may sit
    on its source's stub when no other touched weight leaves that source here, or likewise
    on its target's stub.
    """
    sources = {w[1] for w in weights}
    targets = {w[2] for w in weights}
    first = boxes.right[weights[0][1]] + 1
    last = boxes.left[weights[0][2]] - 1
    middle = (first + last) // 2
    rows = [boxes.rows[unit] for unit in sources | targets]
    top, bottom = min(rows), max(rows)
    skeleton = [(middle, y, ("N" if y > top else "") + ("S" if y < bottom else ""))
                for y in range(top, bottom + 1)]
    for unit in sources:
        skeleton += [(x, boxes.rows[unit], "EW") for x in range(first, middle)]
        skeleton.append((middle, boxes.rows[unit], "W"))
    for unit in targets:
        skeleton += [(x, boxes.rows[unit], "EW") for x in range(middle + 1, last + 1)]
        skeleton.append((middle, boxes.rows[unit], "E"))
    canvas.draw(skeleton, None, False)
    hot = [w for w in weights if _hot(model, w[0])]
    links = {}
    for name, source, target, _, _ in weights:
        ys, yt = boxes.rows[source], boxes.rows[target]
        if not _hot(model, name):
            links[name] = _Link([], bus=True)
            continue
        cells = [(x, ys, "") for x in range(first, middle)]  # on the skeleton: no new arms
        cells += [(middle, y, "") for y in range(min(ys, yt), max(ys, yt) + 1)]
        cells += [(x, yt, "") for x in range(middle + 1, last + 1)]
        canvas.draw(cells, name, True)
        stubs = []
        if sum(w[1] == source for w in hot) == 1:
            stubs.append((ys, first + 1, middle - 1))
        if sum(w[2] == target for w in hot) == 1:
            stubs.append((yt, middle + 1, last - 1))
        links[name] = _Link(cells, tuple(stubs), bus=True)
    return links


def _route(start: Cell, end: Cell) -> list[tuple[int, int, str]]:
    """Cells and arms of a line from a box's right port to the next box's left port.

    It leaves and enters horizontally and runs straight in between (one step per cell, as
    Bresenham's algorithm spreads them), so crossing lines stay tellable apart.
    """
    (xa, ya), (xb, yb) = start, end
    points = [(xa, ya), *_bresenham(xa + 1, ya, xb - 1, yb), (xb, yb)]
    cells = []
    for k, (x, y) in enumerate(points):
        before = (x - points[k - 1][0], y - points[k - 1][1]) if k else (1, 0)
        after = (points[k + 1][0] - x, points[k + 1][1] - y) if k + 1 < len(points) else (1, 0)
        cells.append((x, y, _arms(before, after)))
    return cells


def _arms(before: Cell, after: Cell) -> str:
    """The arms of a cell entered by the step ``before`` and left by the step ``after``."""
    if before[0] and before[1]:
        return "\\" if before[1] > 0 else "/"
    arms = {(1, 0): "W", (0, 1): "N", (0, -1): "S"}[before]
    if after[0] and after[1]:  # the next cell takes the diagonal
        after = (1, 0) if before[1] == 0 else (0, before[1])
    return arms + {(1, 0): "E", (0, 1): "S", (0, -1): "N"}[after]


def _bresenham(x0: int, y0: int, x1: int, y1: int) -> list[Cell]:
    """An 8-connected straight line; ascending lines mirror descending ones exactly."""
    sign = 1 if y1 >= y0 else -1
    dx, dy = x1 - x0, abs(y1 - y0)
    points = []
    if dx >= dy:
        for k in range(dx + 1):
            points.append((x0 + k, y0 + sign * ((2 * k * dy + dx) // (2 * dx) if dx else 0)))
    else:
        for k in range(dy + 1):
            points.append((x0 + (2 * k * dx + dy) // (2 * dy), y0 + sign * k))
    return points


def _place_labels(
    model: DiagramModel,
    canvas: _Canvas,
    weights: Sequence[Weight],
    links: Mapping[str, _Link],
) -> bool:
    """Put each label on a stretch of its own line, over no other line or text.

    The most constrained labels go first. Returns whether every label found a place.
    """
    labels = {w[0]: _label(model, w) for w in weights}
    options = {name: _label_spots(canvas, links[name], name, len(labels[name].text))
               for name in labels}
    placed_all = True
    for name in sorted(labels, key=lambda n: len(options[n])):
        for x, y in options[name]:
            if canvas.put(replace(labels[name], x=x, y=y), margin=1):
                break
        else:
            placed_all = False
    return placed_all


def _label(model: DiagramModel, weight: Weight) -> Span:
    name, _, _, value, new = weight
    span = _item(model, name, value, new)
    return replace(span, text=span.text + " ")


def _label_spots(canvas: _Canvas, link: _Link, name: str, width: int) -> list[Cell]:
    """Starts for a label of ``width`` over ``name``'s line alone, best first.

    Best is a third of the way from the source (clear of the crossings mid-gap), centred
    on the line, with no other line touching its ends. The two cells at each end of the
    line stay bare so it visibly reaches both boxes.
    """
    if link.bus:
        return [(first + (last - first + 1 - width) // 2, y)
                for y, first, last in link.stubs if last - first + 1 >= width]
    path = link.cells
    inner = path[2:-2]
    lo, hi = path[0][0] + 2, path[-1][0] - 2
    spots: list[tuple[float, Cell]] = []
    for index, (x, y, _) in enumerate(inner):
        if canvas.owners.get((x, y)) != {name}:
            continue
        first, last = x, x
        while first - 1 >= lo and canvas.owners.get((first - 1, y), {name}) == {name}:
            first -= 1
        while last + 1 <= hi and canvas.owners.get((last + 1, y), {name}) == {name}:
            last += 1
        for start in range(max(first, x - width + 1), min(last - width + 1, x) + 1):
            off_centre = abs(start + width // 2 - x)
            beside = sum(canvas.owners.get((c, y), {name}) != {name} for c in (start - 1,
                                                                               start + width))
            spots.append((abs(index - len(inner) / 3) + off_centre + 3 * beside, (start, y)))
    spots.sort()
    return list(dict.fromkeys(spot for _, spot in spots))


# The three renderings.


def _labelled(model: DiagramModel, width: int, height: int) -> Layout | None:
    if max(len(units) for units in model.layers) > MAX_LABELLED_UNITS:
        return None
    canvas = _Canvas(width, height)
    band = _band(model, model.biases)
    if not _diagram(model, canvas, (0, 0, width, height), band, label_all=True):
        return None
    return canvas.finish("labelled")


def _listed(model: DiagramModel, width: int, height: int) -> Layout | None:
    """The diagram with the weights (and biases the band cannot hold) listed beside or below.

    Below when a short list leaves the diagram most of the height (wide gaps draw cleaner
    lines), else beside if the whole list fits there, else below, else beside and shortened.
    """
    if 2 * max(map(len, model.layers)) > height:  # no room for boxes: skip the formatting
        return None
    band = _band(model, model.biases)
    if max(map(len, band)) > 2:
        band = [[] for _ in band]
    in_band = {bias[0] for group in band for bias in group}
    items = _weight_items(model, model.weights)
    items += _bias_items(model, [b for b in model.biases if b[0] not in in_band])
    if not items:
        return None
    short = _rows_needed(items, width) + 1 <= height // 3
    return (
        (short and _below(model, band, items, width, height))
        or _beside(model, band, items, width, height, math.ceil(len(items) / height))
        or _below(model, band, items, width, height)
        or _beside(model, band, items, width, height, 1)
    )


def _beside(
    model: DiagramModel,
    band: list[list[Bias]],
    items: list[Span],
    width: int,
    height: int,
    columns: int,
) -> Layout | None:
    """The diagram, a gap, a rule, a gap, and the list in ``columns`` columns."""
    column = max(len(item.text) for item in items)
    listed = columns * column + (columns - 1) * LIST_GAP
    room = width - listed - 1 - 2 * LIST_GAP
    canvas = _Canvas(width, height)
    if room <= 0 or not _diagram(model, canvas, (0, 0, room, height), band, label_all=False):
        return None
    _rule(canvas, room + LIST_GAP, 0, 1, height)
    _flow(canvas, items, (width - listed, 0, listed, height), _anchor(model, items))
    return canvas.finish("listed")


def _below(
    model: DiagramModel, band: list[list[Bias]], items: list[Span], width: int, height: int
) -> Layout | None:
    """The diagram as tall as the list leaves room for, a rule, the list in columns."""
    needed = 2 * max(map(len, model.layers)) - 1 + max(map(len, band))
    rows = min(height - 2, max(needed, height - 1 - _rows_needed(items, width)))
    canvas = _Canvas(width, height)
    if rows < needed or not _diagram(model, canvas, (0, 0, width, rows), band, label_all=False):
        return None
    _rule(canvas, 0, rows, width, 1)
    _flow(canvas, items, (0, rows + 1, width, height - rows - 1), _anchor(model, items))
    return canvas.finish("listed")


def _compact(model: DiagramModel, width: int, height: int) -> Layout:
    """No lines: the units (a column per layer, its biases under it) above the weights.

    Layer columns too wide to sit side by side become one list in newspaper columns; long
    lists show a window around the focus; a very low area gets one list of everything.
    """
    canvas = _Canvas(width, height)
    band = _band(model, model.biases)
    sections = []
    for layer, biases in zip(model.layers, band):
        pad = max(len(name) for name in [*layer, *(b[0] for b in biases)])
        sections.append(_unit_items(model, layer, pad) + _bias_items(model, biases, pad))
    units = [item for section in sections for item in section]
    weights = _weight_items(model, model.weights)
    if height < COMPACT_SPLIT or not weights:
        everything = units + weights
        _flow(canvas, everything, (0, 0, width, height), _anchor(model, everything))
        return canvas.finish("compact")
    widths = [max(len(item.text) for item in section) for section in sections]
    side_by_side = sum(widths) + LIST_GAP * (len(widths) - 1) <= width
    wanted = max(map(len, sections)) if side_by_side else _rows_needed(units, width)
    rows = min(wanted, height - 1 - min(_rows_needed(weights, width), (height - 1) // 2))
    if side_by_side:
        x = 0
        for section, section_width in zip(sections, widths):
            _flow(canvas, section, (x, 0, section_width, rows), _anchor(model, section))
            x += section_width + LIST_GAP
    else:
        _flow(canvas, units, (0, 0, width, rows), _anchor(model, units))
    _rule(canvas, 0, rows, width, 1)
    _flow(canvas, weights, (0, rows + 1, width, height - rows - 1), _anchor(model, weights))
    return canvas.finish("compact")


# Lists.


def _anchor(model: DiagramModel, items: Sequence[Span]) -> int:
    """Which item a shortened list must keep in view: the focus, else the first touched."""
    names = [item.element for item in items]
    if model.focus in names:
        return names.index(model.focus)
    return next((k for k, item in enumerate(items) if item.state), 0)


def _window(items: Sequence[Span], room: int, anchor: int) -> list[Span]:
    """At most ``room`` items around ``anchor``; "⋮ N more" stands for the ones left out."""
    count = len(items)
    if count <= room:
        return list(items)
    if room < 3:
        start = min(anchor, count - room)
        return list(items[start : start + room])
    if anchor < room - 1:
        return [*items[: room - 1], _more(count - room + 1)]
    if anchor >= count - room + 1:
        return [_more(count - room + 1), *items[count - room + 1 :]]
    start = min(anchor - (room - 2) // 2, count - room + 1)
    shown = items[start : start + room - 2]
    return [_more(start), *shown, _more(count - start - len(shown))]


def _more(count: int) -> Span:
    return Span(0, 0, MORE.format(count), None, "dim")


def _rows_needed(items: Sequence[Span], width: int) -> int:
    """Rows that ``_flow`` needs to show every item in ``width`` columns of text."""
    column = min(width, max(len(item.text) for item in items))
    return math.ceil(len(items) / max(1, (width + LIST_GAP) // (column + LIST_GAP)))


def _flow(
    canvas: _Canvas, items: Sequence[Span], area: tuple[int, int, int, int], anchor: int
) -> None:
    """Items top to bottom in as many equal columns as the area holds."""
    x0, y0, width, height = area
    if not items or width <= 0 or height <= 0:
        return
    column = min(width, max(len(item.text) for item in items))
    per_row = max(1, (width + LIST_GAP) // (column + LIST_GAP))
    shown = _window(items, per_row * height, anchor)
    for k, item in enumerate(shown):
        x = x0 + (k // height) * (column + LIST_GAP)
        canvas.put(replace(_clip(item, column), x=x, y=y0 + k % height))


def _rule(canvas: _Canvas, x0: int, y0: int, width: int, height: int) -> None:
    """A dim separator: a row of ─ or a column of │."""
    glyph = "│" if width == 1 else "─"
    for y in range(y0, min(y0 + height, canvas.height)):
        canvas.put(Span(x0, y, glyph * min(width, canvas.width - x0), None, "dim"))


# The widget.


class NetworkDiagram(Widget):
    """The network as boxes and lines; the app feeds it a DiagramModel after every step."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diagram--touched",
        "diagram--focus",
        "diagram--dim",
        "diagram--new",
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
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._model = model
        self._layout = Layout(0, 0, "empty")
        self._painted: tuple[tuple[int, int, DiagramModel | None], list[Strip]] | None = None
        self._first_click: str | None = None

    @property
    def current_layout(self) -> Layout:
        """The layout last painted: what a click at a cell selects."""
        return self._layout

    def show(self, model: DiagramModel) -> None:
        """Show ``model``; the app calls this on every key, so an unchanged model is free."""
        if model != self._model:
            self._model = model
            self.refresh()

    def render_line(self, y: int) -> Strip:
        """Line API: the rows are painted once per model and size, then only handed out."""
        width, height = self.size
        key = (width, height, self._model)
        if self._painted is None or self._painted[0] != key:
            styles = {name: self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES}
            if self._model is None:
                self._layout = Layout(width, height, "empty")
            else:
                self._layout = layout(self._model, width, height)
            self._painted = (key, paint(self._layout, styles, self.rich_style))
        strips = self._painted[1]
        return strips[y] if y < len(strips) else Strip.blank(width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painted = None  # a new theme: paint again

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


def paint(layout: Layout, styles: Mapping[str, Style], base: Style) -> list[Strip]:
    """The layout as styled rows: lines dim (touched ones highlighted), text over them."""
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
    strips = []
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
        strips.append(Strip(segments, layout.width))
    return strips
