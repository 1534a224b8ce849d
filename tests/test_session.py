"""The session: stepping, edits, fast-forward, and undo/redo of every action."""

from __future__ import annotations

import math

import pytest
from backprop_tui.engine import fastpath
from backprop_tui.netfile import parse_network
from backprop_tui.network import Network
from backprop_tui.presets import load_preset
from backprop_tui.session import timeline as timeline_module
from backprop_tui.session.session import EditError, Session, State
from backprop_tui.steps.names import UnknownName
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import DIVERGING

MAZUR = load_preset("mazur")


def snapshot(session: Session) -> tuple:
    """What a person sees: the state, and the current step's key and value."""
    step = session.step
    return session.state, step.key if step else None, step.value if step else None


def test_opens_at_the_start_of_epoch_1_with_nothing_computed() -> None:
    session = Session(MAZUR)
    assert (session.epoch, session.index, session.step) == (1, 0, None)
    assert not session.can_prev() and not session.can_undo() and not session.can_redo()
    assert session.values() == []


def test_three_nexts_then_one_undo_goes_back_one_step() -> None:
    session = Session(MAZUR)
    for _ in range(3):
        session.next()
    assert session.step.key == "net_h2"
    session.undo()
    assert (session.index, session.step.key) == (2, "out_h1")
    session.redo()
    assert session.step.key == "net_h2"


def test_undo_after_a_jump_returns_to_where_it_started() -> None:
    session = Session(MAZUR)
    session.goto(5)
    session.goto("dE/dw1")
    assert session.step.key == "dE/dw1"
    session.undo()
    assert session.index == 5


def test_navigation_across_epochs_and_phases() -> None:
    session = Session(MAZUR)
    session.last()
    assert session.step.key == "E_total+"
    session.next()
    assert (session.epoch, session.index) == (2, 0)
    session.prev()
    assert (session.epoch, session.step.key) == (1, "E_total+")
    session.first()
    assert session.step.key == "net_h1"
    phases = []
    while session.next_phase():
        phases.append(session.step.phase)
    assert phases == ["error", "output", "hidden", "update"]
    session.prev_phase()
    assert session.step.key == "dE_o1/dout_h1"  # start of the hidden layer's phase
    session.next_epoch()
    session.next_epoch()
    assert (session.epoch, session.index) == (3, 0)
    session.prev_epoch()
    assert session.epoch == 2


@pytest.mark.parametrize(
    ("name", "key"),
    [("w5", "w5+"), ("dE/dw1", "dE/dw1"), ("dE_total/dw5", "dE/dw5"), ("h1", "out_h1"),
     ("∂E/∂w₅", "dE/dw5"), ("δ_o₁", "delta_o1"), ("dE_o1/dnet_o1", "delta_o1"),
     ("E_TOTAL", "E_total"), ("w1_new", "w1+"), ("b2", "dE/db2"), ("E_total_new", "E_total+")],
)
def test_go_to_by_name(name: str, key: str) -> None:
    session = Session(MAZUR)
    session.goto(name)
    assert session.step.key == key


@pytest.mark.parametrize("name", ["i1", "w99", "", "nonsense"])
def test_go_to_an_unknown_name_says_why_and_changes_nothing(name: str) -> None:
    session = Session(MAZUR)
    with pytest.raises(UnknownName):
        session.goto(name)
    assert session.state == State() and not session.can_undo()


def test_an_edit_applies_from_the_start_of_the_current_epoch_and_keeps_the_cursor() -> None:
    session = Session(MAZUR)
    session.next_epoch()
    session.goto("w5")
    old_value = session.step.value
    old_start = session.network.weights[1][0, 0]
    session.edit("w5", 0.3)
    assert session.step.key == "w5+"
    assert session.network.weights[1][0, 0] == 0.3
    assert session.step.operands[0] == 0.3 and session.step.value != old_value
    session.prev_epoch()  # epoch 1 is untouched by an edit made in epoch 2
    assert session.network.weights[1][0, 0] == 0.4
    session.next_epoch()
    for _ in range(3):  # next epoch, previous epoch, the edit
        session.undo()
    assert session.network.weights[1][0, 0] == old_start
    assert (session.step.key, session.step.value) == ("w5+", old_value)


def test_an_option_edit_that_adds_steps_keeps_the_same_step() -> None:
    session = Session(MAZUR)
    session.goto("dE/dw1")
    before = len(session.steps)
    session.edit("update_biases", True)
    assert len(session.steps) == before + 2  # b1+ and b2+
    assert session.step.key == "dE/dw1"


@pytest.mark.parametrize(
    ("name", "value"),
    [("w5", "abc"), ("w5", float("nan")), ("w5", float("inf")), ("w5", True),
     ("eta", 0), ("learning_rate", -1), ("loss", "l1"), ("update_order", "sometimes"),
     ("update_biases", "yes"), ("activation9", "tanh"), ("activation1", "softmax"),
     ("w42", 1.0)],
)
def test_a_bad_edit_is_refused_with_one_line_and_changes_nothing(name: str, value: object) -> None:
    session = Session(MAZUR)
    with pytest.raises(EditError) as refused:
        session.edit(name, value)
    assert "\n" not in str(refused.value) and str(refused.value)
    assert session.state == State() and not session.can_undo()


def test_fast_forward_lands_at_the_start_of_the_epoch_after_and_undoes() -> None:
    session = Session(MAZUR)
    session.goto(7)
    session.fast_forward(10)
    assert (session.epoch, session.index) == (11, 0)
    session.undo()
    assert (session.epoch, session.index) == (1, 7)


def test_fast_forward_can_be_cancelled_without_changing_anything() -> None:
    session = Session(MAZUR)
    assert not session.fast_forward(50_000, ticker=lambda done: done < 2000)
    assert session.state == State() and not session.can_undo()


def test_going_back_after_a_long_run_costs_at_most_one_checkpoint_interval(monkeypatch) -> None:
    session = Session(MAZUR)
    session.fast_forward(5000)
    counted: list[int] = []
    real = fastpath.run_epochs

    def counting(network: Network, count: int, **options: object) -> fastpath.Run:
        counted.append(count)
        return real(network, count, **options)

    monkeypatch.setattr(timeline_module, "run_epochs", counting)
    for _ in range(300):
        session.prev_epoch()
    assert session.epoch == 4701
    assert sum(counted) <= 300 * timeline_module.CHECKPOINT


def test_the_session_names_the_step_where_training_diverges() -> None:
    session = Session(parse_network(DIVERGING, "linear-2-2-1"))
    for _ in range(6):
        if not session.next_epoch():
            break
    assert session.diverged is not None and session.epoch <= 6
    assert session.diverged.startswith(f"diverged at epoch {session.epoch}, step ")
    assert not session.can_next_epoch() and not session.fast_forward(5)
    session.last()
    assert not session.can_next()
    assert all(step.value is None or math.isfinite(step.value) for step in session.values())


ACTIONS = [
    ("next",), ("prev",), ("first",), ("last",), ("next_phase",), ("prev_phase",),
    ("next_epoch",), ("prev_epoch",), ("goto", "w5"), ("goto", "dE/dw1"), ("goto", 3),
    ("fast_forward", 3), ("edit", "w5", 0.25), ("edit", "eta", 0.9),
    ("edit", "update_order", "during_backward"), ("edit", "update_biases", True),
    ("edit", "activation1", "tanh"), ("edit", "i2", 0.3), ("set_digits", 4),
    ("set_digits", 12),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(ACTIONS), max_size=25))
def test_undoing_everything_returns_the_initial_state_and_redo_replays(actions: list) -> None:
    session = Session(MAZUR)
    initial = snapshot(session)
    seen = []
    for name, *args in actions:
        getattr(session, name)(*args)
        seen.append(snapshot(session))
    final = snapshot(session)
    undone = 0
    while session.undo():
        undone += 1
    assert snapshot(session) == initial
    assert undone == len(session.future) and undone <= len(actions)
    while session.redo():
        pass
    assert snapshot(session) == final
    if seen:
        assert snapshot(session) == seen[-1]


@pytest.mark.parametrize(("name", "words"), [
    ("i1", "i1 is given, not computed"),
    ("t_o2", "t_o2 is given, not computed"),
    ("w99", "no step named 'w99'"),  # no such weight on this network
    ("b1.2", "no step named 'b1.2'"),  # its biases are shared: b1, b2
    ("nonsense", "no step named 'nonsense'"),
])
def test_go_to_says_whether_a_name_is_given_or_unknown(name: str, words: str) -> None:
    with pytest.raises(UnknownName, match=words):
        Session(MAZUR).goto(name)
