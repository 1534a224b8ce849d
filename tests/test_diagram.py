"""The network diagram: layouts fit any size without overlaps, show every number, and clicks
select what is under the pointer."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace

import pytest
from backprop_tui.app.components.diagram import DiagramModel, Layout, NetworkDiagram, layout
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

SIZES = [(70, 26), (46, 14), (20, 5), (1, 1)]

TUTORIAL_VALUES = {
    "i1": 0.05, "i2": 0.10,
    "h1": 0.593269992, "h2": 0.596884378,
    "o1": 0.75136507, "o2": 0.772928465,
}
TUTORIAL_LINKS = [
    ("i1", "h1"), ("i2", "h1"), ("i1", "h2"), ("i2", "h2"),
    ("h1", "o1"), ("h2", "o1"), ("h1", "o2"), ("h2", "o2"),
]
TUTORIAL_WEIGHTS = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]


def tutorial(
    touched: set[str] | None = None,
    focus: str | None = None,
    new: dict[str, float] | None = None,
    computed: bool = True,
) -> DiagramModel:
    """Mazur's 2-2-2 network; without ``computed`` only the inputs have values."""
    new = new or {}
    values = {u: (v if computed or u.startswith("i") else None) for u, v in TUTORIAL_VALUES.items()}
    weights = tuple(
        (f"w{k}", source, target, value, new.get(f"w{k}"))
        for k, ((source, target), value) in enumerate(zip(TUTORIAL_LINKS, TUTORIAL_WEIGHTS), 1)
    )
    biases = (("b1", ("h1", "h2"), 0.35, None), ("b2", ("o1", "o2"), 0.60, None))
    layers = (("i1", "i2"), ("h1", "h2"), ("o1", "o2"))
    return DiagramModel(layers, values, weights, biases, frozenset(touched or ()), focus)


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
        (f"w{n}", source, target, value, value - 0.0123 if updated else None)
        for n, (source, target, value) in enumerate(
            ((s, t, next(numbers)) for before, after in zip(layers, layers[1:])
             for t in after for s in before), 1)
    )
    biases = []
    for layer, fed in enumerate(layers[1:], 1):
        if shared:
            biases.append((f"b{layer}", fed, 0.1 * layer, None))
        else:
            biases += [(f"b{layer}.{j}", (unit,), 0.01 * j, None) for j, unit in enumerate(fed, 1)]
    return DiagramModel(tuple(layers), values, weights, tuple(biases),
                        frozenset(touched or ()), focus)


MODELS = {
    "2-2-2": tutorial(),
    "2-2-2 forward": tutorial({"i1", "i2", "w1", "w2", "b1", "h1"}, "h1", computed=False),
    "2-2-2 update": tutorial({"w5"}, "w5", new={"w5": 0.35891648, "w6": 0.408666186}),
    "3-4-4-2": sized((3, 4, 4, 2), touched={"i1", "i2", "i3", "w4", "w5", "w6"}, focus="h1.2"),
    "4-6-6-6": sized((4, 6, 6, 6), shared=False, touched={"w30"}, focus="w30", updated=True),
    "8-64-64-2": sized((8, 64, 64, 2), shared=False, touched={"w600"}, focus="w600"),
}


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


@pytest.mark.parametrize("size", SIZES + [(0, 0), (70, 0), (3, 40)], ids=str)
@pytest.mark.parametrize("name", list(MODELS))
def test_layout_fits_without_overlaps(name: str, size: tuple[int, int]) -> None:
    width, height = size
    check_geometry(layout(MODELS[name], width, height), width, height)


def test_tutorial_shows_every_weight_and_unit_with_its_value() -> None:
    result = layout(tutorial(), 70, 26)
    assert result.mode == "labelled"
    text = "\n".join(result.rows())
    for k, value in enumerate(TUTORIAL_WEIGHTS, 1):
        assert f"w{k} {value:g}" in text
    for unit, value in TUTORIAL_VALUES.items():
        assert f"{unit} {value:.4g}" in text
    assert "b1 0.35" in text and "b2 0.6" in text
    assert "╳" in text  # the crossing connections are drawn as lines


def test_unit_without_value_shows_placeholder() -> None:
    text = "\n".join(layout(tutorial(computed=False), 70, 26).rows())
    assert "h1 ·" in text and "o2 ·" in text


@pytest.mark.parametrize("size", [(70, 26), (46, 14)], ids=str)
def test_new_value_shows_old_then_new(size: tuple[int, int]) -> None:
    model = tutorial({"w5"}, "w5", new={"w5": 0.35891648})
    assert "0.4 → 0.3589" in "\n".join(layout(model, *size).rows())


def test_touched_and_focus_are_marked_without_colour() -> None:
    result = layout(MODELS["2-2-2 forward"], 70, 26)
    states = {span.element: span.state for span in result.spans}
    assert states["h1"] == "focus" and states["w1"] == "touched" and states["w5"] == ""
    text = "\n".join(result.rows())
    assert "▶h1" in text and "▶w1 0.15" in text and "▶b1 0.35" in text
    assert "▶w5" not in text


def test_hit_map_finds_labels_and_boxes() -> None:
    result = layout(tutorial(), 70, 26)
    rows = result.rows()
    for element, text in [("w5", "w5 0.4"), ("h1", "h1 0.5933"), ("b1", "b1 0.35")]:
        (y,) = [y for y, row in enumerate(rows) if text in row]
        x = rows[y].index(text)
        assert {result.hit[(x + k, y)] for k in range(len(text))} == {element}


def test_large_layers_label_touched_lines_and_list_every_weight() -> None:
    model = MODELS["3-4-4-2"]
    result = layout(model, 70, 26)
    assert result.mode == "listed"
    text = "\n".join(result.rows())
    for name, _, _, value, _ in model.weights:
        assert f"{name} " in text and f"{value:.4g}" in text
    assert "▶w5" in text and "▶w7" not in text
    assert "┃" in text  # the touched connections' lines are drawn heavy


def test_wide_area_labels_touched_connections_on_their_lines() -> None:
    model = sized((3, 4, 4, 2), touched={"w4", "w5", "w6", "h1.2"}, focus="h1.2")
    result = layout(model, 116, 32)
    labels = [s for s in result.spans if s.element == "w5"]
    assert len(labels) == 2  # on the line and in the list


def test_huge_network_keeps_the_focus_in_view() -> None:
    for width, height in [(70, 26), (46, 14)]:
        result = layout(MODELS["8-64-64-2"], width, height)
        assert result.mode == "compact"
        text = "\n".join(result.rows())
        assert "▶w600" in text and "more" in text and "i1 " in text


def test_empty_model_and_tiny_area() -> None:
    empty = DiagramModel((), {}, (), (), frozenset(), None)
    assert layout(empty, 70, 26).rows() == [" " * 70] * 26
    assert layout(tutorial(), 1, 1).rows() == ["…"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 7), min_size=1, max_size=5),
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
    model = replace(model, digits=digits, values={**model.values, "i1": None, "o1": -1.5e-7})
    check_geometry(layout(model, width, height), width, height)


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
    async with app.run_test(size=(80, 30)) as pilot:
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
