"""The diagram as a learner reads it (issue 11), checked on the screen's text: the tutorial
keeps its connections at 80×24, the backward pass is drawn backwards with δ, gradients,
targets and η in view, one layout serves the whole epoch with clean lines, and a hidden-layer
step says which value of an already-updated weight it uses."""

from __future__ import annotations

import re

import pytest
from apptools import run, screen_text, show
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.diagram import NetworkDiagram
from backprop_tui.netfile import parse_network
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.pilot import Pilot

SMALL, LARGE = (80, 24), (120, 36)
SIZES = [SMALL, LARGE]
LINE = "─━│┃╲╱╳┬┴├┤┼╭╮╰╯┳┻┣┫╋┏┓┗┛◀▶"
NAME = re.compile(r"(?<![\w.])([iwhob]\d+(?:\.\d+)?)(?![\w.])")
STUBS = [a + b for a in "╲╱╳" for b in "─━"] + [b + a for a in "╲╱╳" for b in "─━"] + [
    "╲╲", "╱╱"]


def big_network() -> Session:
    """A 4-8-8-8-3 network, too large to draw every connection."""
    sizes = [4, 8, 8, 8, 3]
    number = 0
    layers = []
    for layer, (before, after) in enumerate(zip(sizes, sizes[1:]), 1):
        rows = []
        for _ in range(after):
            row = []
            for _ in range(before):
                number += 1
                row.append(f"{((number * 37) % 101) / 100 - 0.5:.2f}")
            rows.append("[" + ", ".join(row) + "]")
        layers.append(f"[[layer]]\nweights = [{', '.join(rows)}]\nbias = {0.1 * layer:.1f}\n"
                      'activation = "sigmoid"\n')
    text = ("inputs = [0.1, 0.5, -0.3, 0.8]\ntargets = [0.2, 0.7, 0.4]\n\n"
            + "\n".join(layers))
    return Session(parse_network(text, "4-8-8-8-3"))


def app_for(network: str) -> BackpropApp:
    session = big_network() if network == "4-8-8-8-3" else Session(load_preset(network))
    return BackpropApp(session)


def diagram_rows(app: BackpropApp) -> list[str]:
    """The diagram panel's rows as the terminal shows them, inside its border."""
    region = app.query_one(NetworkDiagram).content_region
    rows = screen_text(app).split("\n")
    return [row[region.x : region.right] for row in rows[region.y : region.bottom]]


def frames(network: str, size: tuple[int, int], targets: list[str | int]) -> list[list[str]]:
    """The diagram's rows at each of ``targets`` (steps, by number or name)."""
    seen: list[list[str]] = []

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        for target in targets:
            await show(app, pilot, target)
            seen.append(diagram_rows(app))

    run(script, size=size, app=app_for(network))
    return seen


def names_at(rows: list[str]) -> set[tuple[str, int, int]]:
    """Every unit, weight and bias name on screen, with its row and column (but in the
    legend, which names the weight whose value a step uses)."""
    return {(found[1], y, found.start(1)) for y, row in enumerate(rows)
            for found in NAME.finditer(row) if not row.startswith("[ ]")}


def skeleton(rows: list[str]) -> set[tuple[int, int]]:
    """The cells that draw connections, heavy or light, arrowheads included (not the marks
    before names)."""
    marks = {(found.start(1) - 1, y) for y, row in enumerate(rows)
             for found in NAME.finditer(row)}
    return {(x, y) for y, row in enumerate(rows) for x, char in enumerate(row)
            if char in LINE and (x, y) not in marks}


def same_lines(rows: list[str], first: list[str]) -> bool:
    """Whether ``rows`` draw the connections where ``first`` does: no line cell anywhere
    new, and any gone under a number (a value fills in the cells kept for it)."""
    lines, before = skeleton(rows), skeleton(first)
    return lines <= before and all(rows[y][x] in "0123456789.-e·" for x, y in before - lines)


def beside(rows: list[str], unit: str, text: str) -> bool:
    """Whether ``text`` (a pattern) is in the few rows under ``unit``'s name, in its column."""
    _, y, x = min(found for found in names_at(rows) if found[0] == unit)  # the topmost
    return any(re.match(text, row[x - 1 : x + 14].strip()) for row in rows[y : y + 4])


# Finding 3: the tutorial's connections at 80×24 -----------------------------------------


def test_the_tutorial_keeps_its_connections_at_80x24() -> None:
    (start, dw6) = frames("mazur", SMALL, [0, "dE/dw6"])
    text = "\n".join(start)
    # the straight connections run from unit to unit, the crossing ones are drawn too
    assert any(re.search(r"i1 0\.05[─━]*[┤▶]h1 [·\d].*[┤▶]o1", row) for row in start), text
    assert any(re.search(r"i2 0\.1[─━]*[┤▶]h2 [·\d].*[┤▶]o2", row) for row in start), text
    assert "╲" in text and "╱" in text
    # and each weight says which units it joins
    for name, joins in [("w1", "i1→h1"), ("w3", "i1→h2"), ("w6", "h2→o1"), ("w8", "h2→o2")]:
        assert re.search(rf"{name} +{joins}", text), (name, text)
    # at a step about w6, its line is drawn heavy
    assert any("━" in row for row in dw6) and re.search(r"◀w6 +h2→o1", "\n".join(dw6))


# Finding 4: the backward pass, drawn backwards ------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_the_backward_pass_is_drawn_backwards(size: tuple[int, int]) -> None:
    seen = frames("mazur", size, [0, "out_o1", "dE_o1/dout_h1", "delta_h1", "dE/dw5"])
    start, forward, share, delta_h1, dw5 = map("\n".join, seen)
    # the targets beside the outputs and η from the first frame on
    assert beside(seen[0], "o1", r"t +0\.01") and beside(seen[0], "o2", r"t +0\.99"), start
    assert "η 0.5" in start
    # forward steps point forward, backward ones back
    assert "▶" in forward and "◀" not in forward
    for backward in (share, delta_h1, dw5):
        assert "◀" in backward and "▶" not in backward
    # the share δ_o1·w5 flows from o1 back along w5 into h1
    assert re.search(r"h1 0\.5933━*◀━", share), share
    # δ beside each unit once computed, ∂E/∂w beside its weight
    assert re.search(r"δ +0\.1385", delta_h1) and re.search(r"δ +-0\.0381", delta_h1)
    assert re.search(r"δ +0\.008771", delta_h1) and re.search(r"δ +·", delta_h1)
    assert re.search(r"w5 .*→ · +0\.08217", dw5), dw5
    assert not re.search(r"δ +0\.1385", start)


# Finding 5: one layout for the whole epoch, clean lines ---------------------------------


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_one_layout_for_the_whole_epoch(size: tuple[int, int]) -> None:
    seen = frames("mazur", size, list(range(56)))
    first = seen[0]
    for index, rows in enumerate(seen):
        assert names_at(rows) == names_at(first), index
        assert same_lines(rows, first), "\n".join(rows)


@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("network", ["mazur", "tanh-linear", "deep-relu", "4-8-8-8-3"])
def test_lines_are_clean(network: str, size: tuple[int, int]) -> None:
    for rows in frames(network, size, [0, 5, "apply"]):
        for row in rows:
            assert not any(stub in row for stub in STUBS), "\n".join(rows)


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_larger_networks_keep_their_layout_and_the_current_unit_in_view(
        size: tuple[int, int]) -> None:
    session = big_network()
    steps = [step for step in session.steps if step.kind in ("out", "delta")]
    targets: list[str | int] = [1, *[step.index for step in steps][::3], "apply"]
    seen = frames("4-8-8-8-3", size, targets)
    units = {step.index: step.touches[0] for step in steps}
    for target, rows in zip(targets, seen):
        if target in units:
            assert re.search(rf"[▶◀]{re.escape(units[target])} ", "\n".join(rows)), (
                target, "\n".join(rows))
    layer_columns = {(name, x) for name, _, x in names_at(seen[0]) if name[0] in "iho"}
    at_apply = {(name, x) for name, _, x in names_at(seen[-1]) if name[0] in "iho"}
    assert at_apply == layer_columns


# Finding 6 (first part): the value a hidden-layer step uses ------------------------------


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_a_hidden_step_says_it_uses_the_original_weight(size: tuple[int, int]) -> None:
    update, share = map("\n".join, frames("mazur", size, ["w5+", "dE_o1/dout_h1"]))
    assert re.search(r"w5 .*\[0\.4\] ?→ 0\.3589", share), share
    assert re.search(r"\[ \] (used here: the old w5, not w₅⁺|still the old w5 here)", share)
    assert "[" not in update and "used" not in update


def test_during_backward_the_new_value_is_the_one_used() -> None:
    (share,) = map("\n".join, frames("deep-relu", LARGE, ["dE_o1/dout_h2.1"]))
    assert re.search(r"w25 .*0\.5 ?→ \[0\.4948\]", share), share
