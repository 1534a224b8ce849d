"""The network diagram: layouts fit any size without overlaps, show every number in a place
that does not move during an epoch, draw clean lines, and clicks select what is under the
pointer."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import replace

import pytest
from backprop_tui.app.components.diagram import (
    DiagramModel,
    Layout,
    NetworkDiagram,
    Parameter,
    _window,
    fit,
    layout,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

SIZES = [(70, 32), (38, 20), (46, 14), (20, 5), (1, 1)]

TUTORIAL_VALUES = {
    "i1": 0.05, "i2": 0.10,
    "h1": 0.593269992, "h2": 0.596884378,
    "o1": 0.75136507, "o2": 0.772928465,
}
TUTORIAL_DELTAS = {"h1": 0.00877135468, "h2": 0.00995425470, "o1": 0.138498562,
                   "o2": -0.0380982366}
TUTORIAL_LINKS = [
    ("i1", "h1"), ("i2", "h1"), ("i1", "h2"), ("i2", "h2"),
    ("h1", "o1"), ("h2", "o1"), ("h1", "o2"), ("h2", "o2"),
]
TUTORIAL_WEIGHTS = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
NAME = re.compile(r"(?<![\w.])[iwhob]\d+(?:\.\d+)?(?![\w.])")


def tutorial(
    touched: set[str] | None = None,
    focus: str | None = None,
    new: dict[str, float] | None = None,
    computed: bool = True,
    part: str = "value",
    backward: bool = False,
    used: dict[str, str] | None = None,
) -> DiagramModel:
    """Mazur's 2-2-2 network; without ``computed`` only the inputs have values."""
    new = new or {}
    used = used or {}
    values = {u: (v if computed or u.startswith("i") else None) for u, v in TUTORIAL_VALUES.items()}
    deltas = {u: (v if computed else None) for u, v in TUTORIAL_DELTAS.items()}
    weights = tuple(
        Parameter(f"w{k}", source, (target,), value, new.get(f"w{k}"), None, True,
                  used.get(f"w{k}", ""))
        for k, ((source, target), value) in enumerate(zip(TUTORIAL_LINKS, TUTORIAL_WEIGHTS), 1)
    )
    biases = (Parameter("b1", None, ("h1", "h2"), 0.35, None, None, False),
              Parameter("b2", None, ("o1", "o2"), 0.60, None, None, False))
    layers = (("i1", "i2"), ("h1", "h2"), ("o1", "o2"))
    return DiagramModel(layers, values, weights, biases, frozenset(touched or ()), focus,
                        part if focus else "", backward, deltas, {"o1": 0.01, "o2": 0.99}, 0.5)


def sized(
    sizes: tuple[int, ...],
    shared: bool = True,
    touched: set[str] | None = None,
    focus: str | None = None,
    updated: bool = False,
) -> DiagramModel:
    """A network of the given layer sizes named as the app names it, with varied numbers."""
    depth = len(sizes) - 1
    layers = [tuple(f"i{j}" for j in range(1, sizes[0] + 1))]
    for layer in range(1, depth + 1):
        prefix = "o" if layer == depth else "h" if depth == 2 else f"h{layer}."
        layers.append(tuple(f"{prefix}{j}" for j in range(1, sizes[layer] + 1)))
    units = [unit for layer in layers for unit in layer]
    values = {unit: ((k * 7919) % 2000 - 1000) / 1237 for k, unit in enumerate(units)}
    numbers = (((n * 37) % 101) / 100 - 0.5 for n in itertools.count(1))
    weights = tuple(
        Parameter(f"w{n}", source, (target,), value, value - 0.0123 if updated else None,
                  value / 7 if updated else None)
        for n, (source, target, value) in enumerate(
            ((s, t, next(numbers)) for before, after in zip(layers, layers[1:])
             for t in after for s in before), 1)
    )
    biases = []
    for layer, fed in enumerate(layers[1:], 1):
        if shared:
            biases.append(Parameter(f"b{layer}", None, fed, 0.1 * layer))
        else:
            biases += [Parameter(f"b{layer}.{j}", None, (unit,), 0.01 * j)
                       for j, unit in enumerate(fed, 1)]
    deltas = {unit: values[unit] / 3 for layer in layers[1:] for unit in layer}
    targets = {unit: 0.5 for unit in layers[-1]} if depth else {}
    return DiagramModel(tuple(layers), values, weights, tuple(biases),
                        frozenset(touched or ()), focus, "value" if focus else "", False, deltas,
                        targets, 0.5)


MODELS = {
    "2-2-2": tutorial(),
    "2-2-2 forward": tutorial({"i1", "i2", "w1", "w2", "b1", "h1"}, "h1", computed=False),
    "2-2-2 update": tutorial({"w5"}, "w5", new={"w5": 0.35891648, "w6": 0.408666186},
                             part="new", backward=True),
    "2-3-1": sized((2, 3, 1), shared=False, touched={"w7", "h1", "o1"}, focus="h1"),
    "3-4-4-2": sized((3, 4, 4, 2), touched={"i1", "i2", "i3", "w4", "w5", "w6"}, focus="h1.2"),
    "4-6-6-6": sized((4, 6, 6, 6), shared=False, touched={"w30"}, focus="w30", updated=True),
    "8-64-64-2": sized((8, 64, 64, 2), shared=False, touched={"w600"}, focus="w600"),
}


def text_of(result: Layout) -> str:
    return "\n".join(result.rows())


def check_geometry(result: Layout, width: int, height: int) -> None:
    """Text stays inside the grid, no two pieces of text overlap, clicks land inside."""
    rows = result.rows()
    assert len(rows) <= height
    assert all(len(row) <= width for row in rows)
    taken: dict[int, list[tuple[int, int]]] = {}
    for span in result.spans:
        assert 0 <= span.x and span.end <= width and 0 <= span.y < height, span
        for start, end in taken.get(span.y, []):
            assert span.end <= start or end <= span.x, f"{span} overlaps [{start}, {end})"
        taken.setdefault(span.y, []).append((span.x, span.end))
    for x, y in [*result.lines, *result.hit]:
        assert 0 <= x < width and 0 <= y < height


def check_clean(result: Layout) -> None:
    """No line has a stray step or touches another without crossing it."""
    for row in result.rows():
        for a, b in zip(row, row[1:]):
            pair = a + b
            assert not (a in "╲╱╳" and b in "─━" or b in "╲╱╳" and a in "─━"), row
            assert pair not in ("╲╲", "╱╱"), row


@pytest.mark.parametrize("size", SIZES + [(0, 0), (70, 0), (3, 40), (120, 60)], ids=str)
@pytest.mark.parametrize("name", list(MODELS))
def test_layout_fits_without_overlaps(name: str, size: tuple[int, int]) -> None:
    width, height = size
    result = layout(MODELS[name], width, height)
    check_geometry(result, width, height)
    check_clean(result)


@pytest.mark.parametrize("size", [(70, 32), (38, 20)], ids=str)
def test_tutorial_shows_every_unit_weight_and_bias_with_its_value(size: tuple[int, int]) -> None:
    result = layout(tutorial(), *size)
    assert result.mode == "drawn"
    text = text_of(result)
    for k, value in enumerate(TUTORIAL_WEIGHTS, 1):
        source, target = TUTORIAL_LINKS[k - 1]
        assert f"w{k} {source}→{target}" in text and f" {value:g} " in text
    for unit, value in TUTORIAL_VALUES.items():
        assert f"{unit} {value:.4g}" in text
    for value in TUTORIAL_DELTAS.values():
        assert f"δ {value:.4g}" in text
    assert "t 0.01" in text and "t 0.99" in text and "η 0.5" in text
    assert "b1 →h1–h2" in text and "0.35" in text and "fixed" in text
    assert "╲" in text and "╱" in text  # the crossing connections are drawn as lines


def test_wide_area_labels_every_connection_on_its_own_line() -> None:
    result = layout(tutorial(), 70, 32)
    labels = [s for s in result.spans if s.element and s.element.startswith("w")
              and s.text.strip() == s.element]
    assert sorted(s.element for s in labels) == [f"w{k}" for k in range(1, 9)]
    for label in labels:  # the cells beside it are its own line, or empty
        for x in (label.x - 1, label.end):
            assert result.hit.get((x, label.y), label.element) == label.element


def test_unit_without_value_shows_placeholder() -> None:
    text = text_of(layout(tutorial(computed=False), 70, 32))
    assert "h1 ·" in text and "o2 ·" in text and "δ ·" in text


@pytest.mark.parametrize("size", [(70, 32), (38, 20), (46, 14)], ids=str)
def test_new_value_shows_old_then_new(size: tuple[int, int]) -> None:
    model = tutorial({"w5"}, "w5", new={"w5": 0.35891648}, part="new")
    assert "0.4 → 0.3589" in text_of(layout(model, *size))


def test_touched_and_focus_are_marked_without_colour() -> None:
    result = layout(MODELS["2-2-2 forward"], 70, 32)
    states = {span.element: span.state for span in result.spans if span.element == span.text
              or span.text[1:].startswith(span.element or "-")}
    assert states["h1"] == "focus" and states["w1"] == "touched" and states["w5"] == ""
    text = text_of(result)
    assert "▶h1" in text and "▶w1" in text and "▶b1" in text and "◀" not in text
    assert "▶w5" not in text


def test_backward_flow_points_back() -> None:
    model = tutorial({"h1", "o1", "w5"}, "h1", part="delta", backward=True)
    result = layout(model, 70, 32)
    text = text_of(result)
    assert "▶" not in text and "◀o1" in text and "◀w5" in text
    row = next(row for row in result.rows() if "h1 0.5933" in row)
    # The flow reaches h1 from w5 and goes no further: the arrowhead after its value marks
    # it, its left edge stays plain (a ◀ there would say the flow goes on along w1).
    assert "┤h1 0.5933◀━" in row
    delta = next(s for s in result.spans if s.element == "delta_h1")
    assert delta.state == "focus" and delta.text.strip().startswith("δ")


def test_the_value_a_step_uses_is_bracketed_and_explained() -> None:
    old = tutorial({"w5", "h1", "o1"}, "h1", new={"w5": 0.35891648}, part="delta",
                   backward=True, used={"w5": "old"})
    text = text_of(layout(old, 38, 20))
    assert "[0.4]→ 0.3589" in text and "used here: the old w5" in text
    new = replace(old, weights=tuple(replace(w, used="new" if w.used else "")
                                     for w in old.weights))
    text = text_of(layout(new, 38, 20))
    assert "0.4 → [0.3589]" in text and "used here: the new w5" in text
    wide = text_of(layout(old, 70, 32))  # said in full where the table has room
    assert "[ ] still the old w5 here: w₅⁺ takes effect at apply" in wide


def test_a_gap_whose_lines_cannot_all_be_named_names_none() -> None:
    for width, height in [(38, 20), (70, 32)]:
        result = layout(MODELS["2-3-1"], width, height)
        labels = {s.element for s in result.spans if s.element and s.element[0] == "w"
                  and s.text.strip().lstrip("▶◀") == s.element}
        assert labels in (set(), {"w1", "w2", "w3", "w4", "w5", "w6"},
                          {"w7", "w8", "w9"}, {f"w{k}" for k in range(1, 10)}), labels


def test_the_header_keeps_every_title_and_eta_when_items_take_two_rows() -> None:
    result = layout(sized((3, 4, 3, 2)), 38, 20)
    header = next(row for row in result.rows() if "new" in row and "gradient" in row)
    assert "value" in header and "η 0.5" in header, header


def test_one_layout_whatever_the_step() -> None:
    """Every place depends on the network and the size, not on the values or marks."""
    steps = [tutorial(computed=False), MODELS["2-2-2 forward"], tutorial(),
             MODELS["2-2-2 update"],
             tutorial({"w5", "h1", "o1"}, "h1", new={"w5": 0.35891648}, part="delta",
                      backward=True, used={"w5": "old"})]
    for size in [(70, 32), (38, 20)]:
        layouts = [layout(model, *size) for model in steps]
        places = [{(found[0], y, found.start()) for y, row in enumerate(result.rows())
                   for found in NAME.finditer(row) if not row.startswith("[ ]")}
                  for result in layouts]
        assert all(p == places[0] for p in places), size
        cells = [set(result.lines) for result in layouts]
        for found in cells:  # a value fills cells its unit's line took while unknown
            assert found <= cells[0]


def test_hit_map_finds_labels_boxes_and_numbers() -> None:
    result = layout(tutorial(), 70, 32)
    rows = result.rows()
    for element, text in [("h1", "h1 0.5933"), ("delta_o1", "δ 0.1385"), ("t_o1", "t 0.01"),
                          ("eta", "η 0.5"), ("dE/dw5", "·")]:
        spans = [s for s in result.spans if s.element == element]
        assert spans, element
        if element != "dE/dw5":
            (y,) = [y for y, row in enumerate(rows) if text in row][:1]
            x = rows[y].index(text)
            assert {result.hit[(x + k, y)] for k in range(len(text))} == {element}


def test_large_layers_meet_on_a_bus_and_the_table_lists_every_weight() -> None:
    model = MODELS["3-4-4-2"]
    result = layout(model, 70, 60)
    assert result.mode == "drawn"
    text = text_of(result)
    for weight in model.weights:
        assert re.search(rf"{weight.name} +{weight.source}→{weight.feeds[0]}", text)
    assert "▶w5" in text and "▶w7" not in text
    assert "┃" in text or "┣" in text  # the touched connections' lines are drawn heavy


def test_huge_network_keeps_the_focus_in_view() -> None:
    for width, height in [(70, 32), (38, 20), (46, 14)]:
        result = layout(MODELS["8-64-64-2"], width, height)
        assert result.mode in ("compact", "list")
        text = text_of(result)
        assert "▶w600" in text and "more" in text, (width, height, text)


def test_pages_keep_their_items_in_place() -> None:
    model = MODELS["8-64-64-2"]
    first = layout(replace(model, focus="w601", touched=frozenset({"w601"})), 70, 32)
    second = layout(model, 70, 32)
    at = {s.element: (s.x, s.y) for s in first.spans if s.element in ("w600", "w601")}
    again = {s.element: (s.x, s.y) for s in second.spans if s.element in ("w600", "w601")}
    assert at == again


def test_the_last_page_is_full() -> None:
    # 9 items in 4 places: 0-2 and "⋮ 6 more"; then "⋮ 3 more", 3-4, "⋮ 4 more"; then 5-6;
    # and the last page shows 6-8 (6 again) rather than 7-8 and an empty place.
    assert _window(9, 4, 0) == [0, 1, 2, "⋮ 6 more"]
    assert _window(9, 4, 3) == ["⋮ 3 more", 3, 4, "⋮ 4 more"]
    assert _window(9, 4, 6) == ["⋮ 5 more", 5, 6, "⋮ 2 more"]
    assert _window(9, 4, 8) == ["⋮ 6 more", 6, 7, 8]


def test_empty_model_and_tiny_area() -> None:
    empty = DiagramModel((), {}, (), (), frozenset(), None)
    assert layout(empty, 70, 26).rows() == [" " * 70] * 26
    assert layout(tutorial(), 1, 1).rows() in (["…"], [" "])


@pytest.mark.parametrize(("value", "width", "shown"), [
    (0.000438567734, 9, "0.0004386"), (0.000438567734, 8, "4.386e-4"),
    (-0.0380982366, 7, "-0.0381"), (-0.02274, 7, "-0.0227"), (0.0, 3, "0"),
    (-1.2345e-10, 8, "-1.2e-10"), (12345.678, 7, "1.235e4"), (5.551e-05, 9, "5.551e-5"),
])
def test_numbers_fit_their_places(value: float, width: int, shown: str) -> None:
    assert fit(value, 4, width) == shown


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 7), min_size=2, max_size=5),
    st.booleans(),
    st.sampled_from([None, "w1", "h1", "b1", "o1"]),
    st.integers(0, 130),
    st.integers(0, 45),
    st.integers(3, 15),
)
def test_any_network_fits_any_size(
    sizes: list[int], shared: bool, focus: str | None, width: int, height: int, digits: int
) -> None:
    model = sized(tuple(sizes), shared, {"w2", "i1", "b1"}, focus, updated=shared)
    model = replace(model, digits=digits, values={**model.values, "i1": 0.0, "o1": -1.5e-7})
    result = layout(model, width, height)
    check_geometry(result, width, height)
    check_clean(result)


class DiagramApp(App[None]):
    CSS = "NetworkDiagram { border: round $primary; }"  # clicks must skip the border

    def __init__(self, model: DiagramModel) -> None:
        super().__init__()
        self.model = model
        self.clicked: list[str] = []
        self.double_clicked: list[str] = []

    def compose(self) -> ComposeResult:
        yield NetworkDiagram(self.model)

    def on_network_diagram_clicked(self, message: NetworkDiagram.Clicked) -> None:
        self.clicked.append(message.element)

    def on_network_diagram_double_clicked(self, message: NetworkDiagram.DoubleClicked) -> None:
        self.double_clicked.append(message.element)


async def click_h1() -> DiagramApp:
    app = DiagramApp(MODELS["2-2-2 forward"])
    async with app.run_test(size=(80, 36)) as pilot:
        diagram = app.query_one(NetworkDiagram)
        rows = [diagram.render_line(y) for y in range(diagram.size.height)]
        assert all(row.cell_length == diagram.size.width for row in rows)
        assert diagram.render_line(0) is rows[0]  # unchanged model and size: the cached rows
        (x, y), _ = next((cell, e) for cell, e in diagram.current_layout.hit.items() if e == "h1")
        focus_style = next(seg.style for seg in rows[y].crop(x, x + 1))
        assert focus_style.bold and focus_style.reverse
        await pilot.click(NetworkDiagram, offset=(x + 1, y + 1))
        await pilot.double_click(NetworkDiagram, offset=(x + 1, y + 1))
        await pilot.click(NetworkDiagram, offset=(1, 1))  # empty space selects nothing
        await pilot.click(NetworkDiagram, offset=(0, y + 1))  # nor does the border
        diagram.show(tutorial())
        await pilot.pause()
        assert "▶h1" not in "\n".join(diagram.current_layout.rows())
    return app


def test_clicking_a_unit_posts_its_name() -> None:
    app = asyncio.run(click_h1())
    # a click, then a double-click: the second click of a double-click means the element
    # its first click hit, and posts only DoubleClicked
    assert app.clicked == ["h1", "h1"]
    assert app.double_clicked == ["h1"]
