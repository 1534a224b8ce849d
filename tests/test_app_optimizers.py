"""Optimisers in the session and the app: switching the optimiser (an undoable edit that
restarts the state), editing μ, β₁, β₂ and ε, the refusals; the state beside each
parameter in the diagram; the error curve compared with plain SGD; one Adam update
stepped by keys."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from apptools import run, screen_text, settle, submit, wait_until
from backprop_tui import keys
from backprop_tui.app import actions, view_model
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.components.diagram import NEW_STATE, layout
from backprop_tui.app.components.panels import EquationPanel, ValuesPanel
from backprop_tui.app.curve_model import PLAIN, epochs_shown, error_curve
from backprop_tui.network import Network, OptimizerState
from backprop_tui.numbers import fmt
from backprop_tui.presets import load_preset
from backprop_tui.session.session import EditError, Session
from rich.cells import cell_len
from textual.pilot import Pilot

# A state from earlier updates, so that a restart to zero shows (the file has none).
V = [[[0.01, -0.02], [0.03, 0.04]], [[0.05, 0.06], [-0.07, 0.08]]]
M = V
S = [[[1e-6, 2e-6], [3e-6, 4e-6]], [[5e-5, 6e-5], [7e-5, 8e-5]]]


def with_velocity() -> Network:
    """mazur-momentum after three updates: a velocity v on every weight."""
    return load_preset("mazur-momentum").with_state(OptimizerState.of(3, {"v": V}, {}))


def with_moments() -> Network:
    """mazur-adam after three updates: moments m and s on every weight."""
    return load_preset("mazur-adam").with_state(OptimizerState.of(3, {"m": M, "s": S}, {}))


def number(session: Session, text: str) -> float:
    found = session.steps.value_of(keys.parse(text))
    assert found is not None, text
    return found


def refused(session: Session, name: str, value: object) -> str:
    with pytest.raises(EditError) as found:
        session.edit(name, value)
    said = str(found.value)
    assert "\n" not in said and said, said
    return said


# The edit that switches the optimiser ---------------------------------------------------


def test_switching_the_optimiser_restarts_the_state_and_undoes_exactly() -> None:
    session = Session(with_velocity())
    before = session.state
    values = [step.value for step in session.steps]
    assert number(session, "v_w5") == 0.05 and number(session, "t") == 4
    assert session.edit("optimizer", "adam")
    assert session.network.optimizer == "adam" and session.network.state is None
    assert number(session, "m_w5") == 0 and number(session, "s_w5") == 0
    assert number(session, "t") == 1  # bias correction from the first update again
    assert session.undo()
    assert session.state == before and session.network.state is session.base.state
    assert [step.value for step in session.steps] == values
    assert session.redo()
    assert session.network.optimizer == "adam" and session.network.state is None
    assert session.events[-1]["action"] == "redo"


def test_an_edit_of_mu_keeps_the_state_and_update_biases_restarts_it() -> None:
    session = Session(with_velocity())
    assert session.edit("momentum", 0.5)
    assert session.network.state is session.base.state and session.network.momentum == 0.5
    gradient = number(session, "dE/dw5")
    assert number(session, "mu") == 0.5
    assert math.isclose(number(session, "v_w5+"), 0.5 * 0.05 + gradient, rel_tol=1e-15)
    session.goto("v_w5+")
    equation = view_model.equation(session)
    assert equation is not None
    assert [(f.symbol, f.source) for f in equation.factors] == [
        ("μ", "your edit"), ("v_w₅", "given"), ("∂E/∂w₅", f"step {session.steps.keys['dE/dw5']}")]
    assert session.edit("update_biases", True)
    assert session.network.state is None and number(session, "v_w5") == 0
    assert number(session, "v_b1") == 0  # the biases now keep a velocity too
    session.undo()
    assert session.network.state is session.base.state and not session.network.update_biases


def test_adams_options_are_edited_by_name_in_their_ranges() -> None:
    session = Session(with_moments())
    assert session.editable("β₁") == "beta1" and session.editable("EPSILON") == "epsilon"
    assert session.editable("mu") is None and session.editable("η") == "learning_rate"
    assert session.current_value("beta2") == 0.999
    assert session.edit("beta1", "0.8") and session.network.beta1 == 0.8
    assert session.network.state is session.base.state  # kept: PyTorch keeps it too
    assert refused(session, "beta1", 1) == (
        "beta1: expected a number from 0 to 1, 1 not included, got 1")
    assert refused(session, "beta2", -0.5).startswith("beta2: expected a number from 0 to 1")
    assert refused(session, "epsilon", 0) == "epsilon: expected a number above 0, got 0"
    assert refused(session, "epsilon", "x") == "expected a number, got 'x'"
    assert refused(session, "momentum", 0.5) == (
        "momentum: an option of optimizer = \"momentum\" or \"nesterov\"; this network's "
        "optimizer is \"adam\"")
    assert refused(session, "optimizer", "Adam") == (
        "optimizer must be one of sgd, momentum, nesterov, adam")
    momentum = Session(with_velocity())
    assert momentum.editable("μ") == "momentum" and momentum.editable("MU") == "momentum"
    assert momentum.editable("beta1") is None


def test_during_backward_is_refused_with_any_optimiser_but_sgd_both_ways() -> None:
    during = ('"during_backward" goes with optimizer = "sgd" only; "adam" keeps state for '
              "every parameter and updates them all after the backward pass")
    assert refused(Session(load_preset("mazur-adam")), "update_order",
                   "during_backward") == during
    session = Session(load_preset("mazur"))
    session.edit("update_order", "during_backward")
    assert refused(session, "optimizer", "adam") == during
    assert session.network.optimizer == "sgd"
    # A later epoch's edit would make it: refused too, and said where.
    later = Session(load_preset("mazur"))
    later.next_epoch()
    later.next_epoch()
    later.edit("update_order", "during_backward")
    later.prev_epoch()
    later.prev_epoch()
    assert refused(later, "optimizer", "adam") == (
        during + " (from epoch 3 on, with the edits made there)")


def test_nesterov_needs_a_momentum_above_0_whichever_edit_comes_first() -> None:
    session = Session(load_preset("mazur-momentum"))
    assert session.edit("momentum", 0.0)  # plain momentum takes 0
    says = refused(session, "optimizer", "nesterov")
    assert says == ("momentum: expected a number from 0 to 1 (above 0 for nesterov), 1 not "
                    "included, got 0")
    session.undo()
    session.edit("optimizer", "nesterov")
    assert refused(session, "momentum", 0) == says


def test_during_backward_with_batches_of_several_is_refused_not_a_traceback() -> None:
    assert refused(Session(load_preset("xor")), "update_order", "during_backward") == (
        '"during_backward" needs batches of one example (batch = "online"): every example '
        "of a batch uses the parameters as they stood at the batch's start")


# The palette's switches -------------------------------------------------------------


def titles(network: Network) -> list[str]:
    """The switches offered (not the values in force)."""
    return [switch.title for switch in actions.switches(network) if not switch.current]


def test_the_palette_offers_only_the_optimisers_an_edit_would_take() -> None:
    assert [t for t in titles(load_preset("mazur")) if t.startswith("Optimizer")] == [
        "Optimizer: momentum", "Optimizer: nesterov", "Optimizer: adam"]
    adam = titles(load_preset("mazur-adam"))
    assert "Update order: during_backward" not in adam and "Optimizer: sgd" in adam
    during = replace(load_preset("mazur"), update_order="during_backward")
    assert not [t for t in titles(during) if t.startswith("Optimizer")]
    still = replace(load_preset("mazur-momentum"), momentum=0.0)
    assert [t for t in titles(still) if t.startswith("Optimizer")] == [
        "Optimizer: sgd", "Optimizer: adam"]
    assert "Update order: during_backward" not in titles(load_preset("xor"))


@pytest.mark.parametrize("preset", ["mazur", "mazur-momentum", "mazur-adam", "xor"])
def test_every_switch_offered_can_be_made(preset: str) -> None:
    session = Session(load_preset(preset))
    for switch in actions.switches(session.network):
        session.check_edit(switch.option, switch.value)


# The state beside each parameter --------------------------------------------------------


def test_the_diagram_shows_the_state_at_the_start_then_the_new_one() -> None:
    session = Session(with_moments())
    model = view_model.diagram(session)
    assert model.slots == ("m", "s")
    w5 = next(p for p in model.weights if p.name == "w5")
    assert w5.state == ((0.05, False), (5e-5, False))
    assert all(b.state == () for b in model.biases)  # fixed biases keep no state
    session.goto("m_w5+")
    model = view_model.diagram(session)
    w5 = next(p for p in model.weights if p.name == "w5")
    g = number(session, "dE/dw5")
    m = w5.state[0][0]
    assert w5.state[0][1] and math.isclose(m, 0.9 * 0.05 + 0.1 * g, rel_tol=1e-15)
    assert w5.state[1] == (5e-5, False)  # s: not computed yet
    assert (model.focus, model.part) == ("w5", "m")
    w6 = next(p for p in model.weights if p.name == "w6")
    assert w6.state == ((0.06, False), (6e-5, False))
    session.goto("w5+")
    w5 = next(p for p in view_model.diagram(session).weights if p.name == "w5")
    assert w5.state[1][1] and math.isclose(w5.state[1][0], 0.999 * 5e-5 + 0.001 * g * g,
                                           rel_tol=1e-15)


def test_under_sgd_the_diagram_has_no_state() -> None:
    model = view_model.diagram(Session(load_preset("mazur")))
    assert model.slots == () and all(p.state == () for p in (*model.weights, *model.biases))


def state_table(rows: list[str]) -> list[str]:
    header = next(k for k, row in enumerate(rows) if "gradient" in row)
    return rows[header:header + 11]


def test_the_table_puts_the_state_in_aligned_columns_where_it_fits() -> None:
    session = Session(with_moments())
    session.goto("s_w5+")
    rows = state_table(layout(view_model.diagram(session), 70, 32).rows())
    header, items = rows[0], rows[1:]
    assert header.index(" m ") > header.index("gradient") and " s " in header
    w5 = next(row for row in items if row.startswith("▶w5"))
    assert w5.rstrip().endswith(NEW_STATE) and w5.count(NEW_STATE) == 2  # both new: marked
    w6 = next(row for row in items if row.startswith(" w6"))
    assert NEW_STATE not in w6 and "0.06" in w6 and "6e-5" in w6
    weights = items[:8]
    assert len({len(row.rstrip().removesuffix(NEW_STATE)) for row in weights}) == 1
    m = header.index(" m ") + 1  # each column's title sits over its numbers' last digit
    s = header.index(" s ") + 1
    for row in weights:
        assert row[m] != " " and row[m + 1] in (" ", NEW_STATE), row
        assert row[s] != " " and row[s + 1] in (" ", NEW_STATE), row


def test_a_narrow_table_leaves_the_state_out_and_stays_as_under_sgd() -> None:
    """At 80×24 the diagram is 38 cells wide: the table keeps its columns, not the state."""
    model = view_model.diagram(Session(with_moments()))
    for width, height in [(38, 20), (48, 26)]:
        found = layout(model, width, height)
        assert found.rows() == layout(replace(model, slots=()), width, height).rows()
        assert found.mode == "drawn"
    velocity = view_model.diagram(Session(with_velocity()))
    rows = layout(velocity, 48, 26).rows()  # one slot fits at 100×30, in tighter numbers
    assert any(" v " in row and "gradient" in row for row in rows)


@pytest.mark.parametrize("size", [(70, 32), (38, 20), (46, 14), (20, 5), (120, 60)],
                         ids=str)
def test_the_state_columns_never_overlap(size: tuple[int, int]) -> None:
    session = Session(with_moments())
    session.goto("s_w5+")
    found = layout(view_model.diagram(session), *size)
    taken: dict[int, list[tuple[int, int]]] = {}
    for span in found.spans:
        assert 0 <= span.x and span.end <= size[0]
        assert all(span.end <= a or b <= span.x for a, b in taken.get(span.y, []))
        taken.setdefault(span.y, []).append((span.x, span.end))


def test_a_state_cell_selects_the_step_that_computes_it() -> None:
    session = Session(with_moments())
    found = layout(view_model.diagram(session), 70, 32)
    cells = {element for element in found.hit.values()}
    assert {"m_w5+", "s_w5+", "m_w1+"} <= cells and "m_b1+" not in cells


# The curve compared with plain SGD ------------------------------------------------------


def test_plain_sgd_is_the_base_network_under_every_edit_but_the_optimisers() -> None:
    assert Session(load_preset("mazur")).plain_sgd() is None
    session = Session(load_preset("mazur"))
    session.next_epoch()
    session.next_epoch()
    session.edit("optimizer", "adam")
    session.edit("w5", 0.3)
    plain = session.plain_sgd()
    assert plain is not None and session.optimized
    plain.reach(6)
    reference = Session(load_preset("mazur"))  # sgd with the same edit, by its own timeline
    reference.next_epoch()
    reference.next_epoch()
    reference.edit("w5", 0.3)
    reference.timeline.reach(6)
    assert np.array_equal(plain.errors()[:5], reference.timeline.errors()[:5])
    assert plain.base.optimizer == "sgd" and plain.base.learning_rate == 0.5


def test_an_edit_forks_plain_sgd_where_it_differs() -> None:
    session = Session(load_preset("mazur-adam"))
    first = session.plain_sgd()
    assert first is not None
    first.reach(11)
    for _ in range(4):
        session.next_epoch()
    session.edit("w5", 0.3)
    forked = session.plain_sgd()
    assert forked is not None and forked.parent is first and forked.fork == 5
    assert forked.known() == 4  # epochs 1 to 4 are the first run's: none rerun
    session.undo()
    assert session.plain_sgd() is first  # kept


def test_the_same_edits_in_another_order_compare_with_the_same_plain_sgd() -> None:
    session = Session(load_preset("mazur-adam"))
    session.next_epoch()
    session.next_epoch()
    session.edit("w5", 0.3)
    session.edit("eta", 0.1)
    before = session.plain_sgd()
    session.undo()
    session.undo()
    session.edit("eta", 0.1)
    session.edit("w5", 0.3)
    again = session.plain_sgd()
    assert again is before and again is not None
    assert again.base.optimizer == "sgd"


def test_the_curve_compares_with_plain_sgd_over_the_same_epochs() -> None:
    session = Session(load_preset("mazur-adam"))
    session.timeline.reach(5)
    session.fast_forward(4)  # the curve: epochs 1 to 4 (the number of them is what counts)
    session.goto("E_total")
    assert epochs_shown(session) == 5
    plain = session.plain_sgd()
    assert plain is not None
    early = error_curve(session, 60, log=False, compare=True)
    assert early.labels == ("adam", PLAIN) and early.plain is not None
    plain.reach(epochs_shown(session) + 1)
    curve = error_curve(session, 60, log=False, compare=True)
    assert curve.key != early.key
    sgd = Session(replace(load_preset("mazur-adam"), optimizer="sgd"))
    sgd.timeline.reach(6)
    assert curve.plain is not None
    assert np.array_equal(curve.plain[1], sgd.timeline.errors()[:5])
    assert f"{PLAIN} {fmt(float(sgd.timeline.errors()[4]), 4)}" in curve.caption
    plain_only = error_curve(session, 60, log=False)
    assert plain_only.plain is None and plain_only.labels == ()
    assert PLAIN not in plain_only.caption


def test_the_line_names_say_which_optimisers_the_session_used() -> None:
    session = Session(load_preset("mazur"))
    session.next_epoch()
    session.edit("optimizer", "momentum")
    session.next_epoch()
    session.edit("optimizer", "adam")
    assert error_curve(session, 60, False, compare=True).labels == (
        "sgd → momentum → adam", PLAIN)


# In the app -----------------------------------------------------------------------------


def test_o_overlays_plain_sgd_only_where_an_optimiser_is_used() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        assert app.check_action("plain_sgd", ()) is False  # left out under sgd
        app.session = Session(load_preset("mazur-adam"))
        app.session.timeline.reach(8)
        app.render_session()
        await settle(pilot)
        assert app.check_action("plain_sgd", ()) is True
        await pilot.press("o")
        curve = app.main.curve
        assert curve is not None and curve.display and curve.compare
        plain = app.session.plain_sgd()
        assert plain is not None
        await wait_until(pilot, lambda: plain.known() >= 7)
        await wait_until(pilot, lambda: curve.curve is not None
                         and curve.curve.plain is not None
                         and len(curve.curve.plain[1]) == 7)
        assert "Error curve: ⠒⠒ adam, ·· plain SGD" in screen_text(app)  # which is which
        await pilot.press("o")
        await settle(pilot)
        assert curve.curve is not None and curve.curve.plain is None
        assert curve.border_title == "Error curve"

    run(script)


def test_a_printed_mark_beside_m_hat_lines_up_with_the_others() -> None:
    """m̂ is m and a combining circumflex: two characters in one cell."""

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        panel = app.main.query_one(ValuesPanel)
        rows = (view_model.ValueRow("Updates", keys.symbol("mhat_w5"), "0.08", False, "✓"),
                view_model.ValueRow("Updates", "w₅⁺", "0.350000006", True, "✓"))
        panel.show((rows, 0))
        await settle(pilot)
        marks = {cell_len(text[:text.index("✓")]) for text, _ in panel._rows if "✓" in text}
        assert len(marks) == 1

    run(script)


def test_the_help_lists_o_where_an_optimiser_is_used() -> None:
    rows = actions.help_rows(several=False, optimized=True)
    assert any(keys_ == "o" and "plain SGD" in what for keys_, what in rows)
    assert not any(keys_ == "o" for keys_, _ in actions.help_rows(False, False))


# One Adam update, by keys ---------------------------------------------------------------


def test_stepping_one_adam_update_of_the_tutorial_by_keys() -> None:
    """The update phase of mazur-adam's first epoch: bc₁, bc₂, then w5's lines, each with
    its numbers in place; checked against the formulas worked here from ∂E/∂w₅."""

    def equation(app: BackpropApp) -> str:
        return app.main.query_one(EquationPanel).text

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("G", "left_square_bracket")  # the last step, then its phase's first
        assert app.session.step is not None and app.session.step.key == "bc1"
        text = equation(app)
        assert "bc₁ = 1 − β₁ᵗ" in text and "= 1 − 0.9¹" in text and "=  0.1 " in text
        await pilot.press("l")
        assert "= 1 − 0.999¹" in equation(app) and "=  0.001 " in equation(app)
        await pilot.press("colon")
        await settle(pilot)
        await submit(app, pilot, "m_w5+")
        g = number(app.session, "dE/dw5")  # t = 1, m and s at 0: the formulas, worked
        m, s = 0.9 * 0 + (1 - 0.9) * g, 0.999 * 0 + (1 - 0.999) * g**2
        mhat, shat = m / (1 - 0.9**1), s / (1 - 0.999**1)
        w5 = 0.4 - 0.05 * mhat / (math.sqrt(shat) + 1e-8)
        text = equation(app)
        assert "m_w₅⁺ = β₁·m_w₅ + (1 − β₁)·∂E/∂w₅" in text
        assert f"= 0.9·0 + (1 − 0.9)·{fmt(g)}" in text
        assert f"=  {fmt(m)} " in text
        await pilot.press("l")
        assert f"=  {fmt(s)} " in equation(app)
        await pilot.press("l")
        text = equation(app)
        assert f"{keys.symbol('mhat_w5')} = m_w₅⁺/bc₁" in text and f"= {fmt(m)}/0.1" in text
        assert f"=  {fmt(mhat)} " in text
        await pilot.press("l")
        assert f"= {fmt(s)}/0.001" in equation(app)
        await pilot.press("l")
        text = equation(app)
        mhat_w5, shat_w5 = keys.symbol("mhat_w5"), keys.symbol("shat_w5")  # m̂, ŝ: combining
        assert f"w₅⁺ = w₅ − η·{mhat_w5}/(√{shat_w5} + ε)" in text
        assert (f"= 0.4 − 0.05·{fmt(mhat)}/(√{fmt(shat)} + 1e-08)"
                in text)
        assert f"=  {fmt(w5)} " in text and fmt(w5) == "0.350000006"

    run(script, app=BackpropApp(Session(load_preset("mazur-adam"))))
