"""Hovering the diagram: the unit or weight under the mouse is marked (underlined, over a
theme colour) and a tooltip says its values, from the diagram's model, and what a click and
a double-click do."""

from __future__ import annotations

import asyncio

import pytest
from apptools import new_app, settle
from backprop_tui.app import view_model
from backprop_tui.app.components.diagram import NetworkDiagram, hover_text
from backprop_tui.numbers import fmt
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.pilot import Pilot
from textual.widgets._tooltip import Tooltip

STEP = 20  # ∂E/∂w5 and w5⁺ known: the output layer's updates


def model() -> view_model.DiagramModel:
    session = Session(load_preset("mazur"))
    session.goto(STEP)
    return view_model.diagram(session)


def test_each_element_says_its_values_from_the_model() -> None:
    """At the diagram's own precision (its model's digits)."""
    shown = model()
    assert hover_text(shown, "w5") == (
        "w5 = 0.4 → 0.3589 · h1 → o1 · click: go to its step · double-click: edit")
    assert hover_text(shown, "w1") == (
        "w1 = 0.15 · i1 → h1 · click: go to its step · double-click: edit")
    assert hover_text(shown, "b1") == (
        "b1 = 0.35 · added to h1, h2, fixed · click: go to its step · double-click: edit")
    assert hover_text(shown, "o1") == (
        "out_o₁ = 0.7514 · δ = 0.1385 · target 0.01 · click: go to its step")
    assert hover_text(shown, "h1") == "out_h₁ = 0.5933 · δ = · · click: go to its step"
    assert hover_text(shown, "i2") == (
        "i2 = 0.1 · an input · click: go to its step · double-click: edit")
    assert hover_text(shown, "dE/dw5") == "∂E/∂w₅ = 0.08217 · click: go to its step"
    assert hover_text(shown, "delta_h1") == "δ_h₁ = · · click: go to its step"
    assert hover_text(shown, "t_o2") == (
        "t_o₂ = 0.99 · the target · click: go to its step · double-click: edit")
    assert hover_text(shown, "eta") == (
        "η = 0.5 · the learning rate · click: go to its step · double-click: edit")


def test_an_optimisers_state_says_its_value() -> None:
    session = Session(load_preset("mazur-momentum"))
    session.goto(len(session.steps))
    shown = view_model.diagram(session)
    w5 = next(p for p in shown.weights if p.name == "w5")
    (velocity, new), = w5.state
    assert new and hover_text(shown, "v_w5+") == (
        f"v_w₅⁺ = {fmt(velocity, shown.digits)} · click: go to its step")


def cells(diagram: NetworkDiagram, element: str) -> list[tuple[int, int]]:
    return sorted(c for c, e in diagram.current_layout.hit.items() if e == element)


def underlined(diagram: NetworkDiagram, y: int) -> set[int]:
    """The cells of row ``y`` drawn underlined."""
    found, x = set(), 0
    for segment in diagram.render_line(y):
        if segment.style is not None and segment.style.underline:
            found.update(range(x, x + len(segment.text)))
        x += len(segment.text)
    return found


@pytest.mark.parametrize("element", ["w5", "o1"])
def test_hovering_marks_the_element_and_shows_its_tooltip(element: str) -> None:
    app = new_app()

    async def main() -> None:
        async with app.run_test(size=(120, 36), tooltips=True) as pilot:
            await hover_over(app, pilot, element)

    asyncio.run(main())


async def hover_over(app, pilot: Pilot, element: str) -> None:
    app.session.goto(STEP)
    app.render_session()
    await settle(pilot)
    diagram = app.main.query_one(NetworkDiagram)
    assert not any(underlined(diagram, y) for y in range(diagram.size.height))
    x, y = cells(diagram, element)[0]
    await pilot.hover(NetworkDiagram, offset=(x + 1, y + 1))  # inside the border
    text = hover_text(view_model.diagram(app.session), element)
    assert str(diagram.tooltip) == text
    rows = {row for _, row in cells(diagram, element)}
    for row in rows:  # every cell of it, and only those
        assert underlined(diagram, row) == {cx for cx, cy in cells(diagram, element)
                                            if cy == row}
    tip = app.screen.query_one(Tooltip)
    for _ in range(100):  # Textual shows it after its delay
        if tip.display:
            break
        await pilot.pause(0.02)
    assert tip.display and str(tip.render()) == text
    await pilot.hover(NetworkDiagram, offset=(0, 0))  # on the border: nothing under it
    assert diagram.tooltip is None
    assert not any(underlined(diagram, y) for y in range(diagram.size.height))
