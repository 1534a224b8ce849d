"""Session document version 2: the undo history and the saved starts (checkpoints).

Undo and redo after a resume restore every state exactly; the history is capped and checked
like every other field; the saved starts make reaching any epoch up to the cursor cost a
fixed number of epochs, and a start changed by hand is refused at load or found when a run
reaches it. Version 1 files still resume as they did.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from backprop_tui.presets import load_preset
from backprop_tui.session import persist
from backprop_tui.session.persist import (
    HISTORY,
    SessionFileError,
    dump_session,
    load_session,
    spacing,
)
from backprop_tui.session.session import Session, State
from backprop_tui.session.timeline import CHECKPOINT, SAVED
from test_persist import NOW, counted_runs, edited_session, one_line, version_1


def saved(session: Session) -> str:
    return "".join(dump_session(session, [], [], NOW))


def walked(session: Session) -> tuple[list[State], list[State]]:
    """Every state undo reaches from here, back to the first, then every state redo
    reaches from there, forward to the last (the session is left where it was)."""
    back = [session.state]
    while session.undo():
        back.append(session.state)
    forward = [session.state]
    while session.redo():
        forward.append(session.state)
    return back, forward


# The history ------------------------------------------------------------------------------


def test_undo_and_redo_after_a_resume_restore_every_state_exactly() -> None:
    session = edited_session()  # edits, an undone edit, a fast-forward, moves
    assert session.undo() and session.undo()  # something to redo, too
    resumed = load_session(saved(session), "saved.json")
    assert resumed.past == session.past and resumed.future == session.future
    assert len(resumed.past) > 10 and len(resumed.future) == 2
    ours, theirs = walked(resumed), walked(session)
    assert ours == theirs
    assert ours[0][-1] == State()  # undone all the way to the start: epoch 1, nothing edited
    assert ours[1][-1] == session.state == resumed.state
    # the steps after an undo are the session's: an undone edit is undone in the numbers too
    for state in ours[0]:
        resumed.state = session.state = state
        assert resumed.network.to_document() == session.network.to_document()
        assert [s.value for s in resumed.steps] == [s.value for s in session.steps]


def test_the_history_is_written_compactly() -> None:
    session = edited_session()
    document = json.loads(saved(session))
    history = document["history"]
    assert set(history) == {"edits", "runs", "past", "future"}
    assert history["runs"] == [[3, 23]]
    assert [1, "w5", 0.3] in history["edits"]
    # each state a short array: [epoch, index, digits, [edits], [runs]]
    assert history["past"][0] == [1, 0, session.digits, [], []]
    assert all(len(state) == 5 for state in history["past"] + history["future"])
    assert len(history["edits"]) == len({tuple(e) for e in history["edits"]})  # each once


def test_the_history_keeps_its_last_states_and_drops_the_oldest(monkeypatch) -> None:
    monkeypatch.setattr(persist, "HISTORY", 5)
    session = Session(load_preset("mazur"))
    for _ in range(12):
        assert session.next()
    assert session.undo() and session.undo()
    document = json.loads(saved(session))
    assert [state[1] for state in document["history"]["past"]] == [5, 6, 7, 8, 9]
    assert [state[1] for state in document["history"]["future"]] == [12, 11]
    resumed = load_session(json.dumps(document), "capped.json")
    assert resumed.past == session.past[-5:] and resumed.future == session.future
    document["history"]["past"].append([1, 1, 9, [], []])
    with pytest.raises(SessionFileError) as caught:
        load_session(json.dumps(document), "long.json")
    assert "\"past\" has 6 entries; at most 5" in one_line(str(caught.value))


def test_a_thousand_states_are_kept_each_way() -> None:
    session = Session(load_preset("mazur"))
    for _ in range(2 * HISTORY + 100):
        assert session.next()
    for _ in range(HISTORY + 50):
        assert session.undo()
    assert len(session.past) == len(session.future) == HISTORY + 50
    resumed = load_session(saved(session), "long.json")
    assert HISTORY == 1_000
    assert resumed.past == session.past[-HISTORY:]  # the oldest dropped
    assert resumed.future == session.future[-HISTORY:]  # the furthest redo dropped
    assert resumed.undo() and resumed.state == session.past[-1]


def base() -> dict[str, Any]:
    session = Session(load_preset("mazur"))
    assert session.edit("w5", 0.3) and session.next() and session.next_epoch()
    return json.loads(saved(session))


BASE = base()


def history(**changes: Any) -> str:
    document = copy.deepcopy(BASE)
    document["history"].update(changes)
    return json.dumps(document)


HOSTILE = {
    "history a list": (json.dumps({**BASE, "history": []}), "\"history\" is not"),
    "history without future": (json.dumps({**BASE, "history": {
        k: v for k, v in BASE["history"].items() if k != "future"}}), "\"history\" is not"),
    "a state of four": (history(past=[[1, 0, 9, []]]), "an entry of \"history\""),
    "a state's epoch 0": (history(past=[[0, 0, 9, [], []]]), "history: epoch"),
    "a state's epoch as text": (history(past=[["1", 0, 9, [], []]]), "\"history\""),
    "a state's index past its epoch's steps": (history(past=[[1, 10_000, 9, [], []]]),
                                               "past the last step of epoch 1"),
    "a state's digits 99": (history(past=[[1, 0, 99, [], []]]), "history: digits"),
    "an edit index past the list": (history(past=[[1, 0, 9, [5], []]]), "indexes"),
    "a run index -1": (history(past=[[1, 0, 9, [], [-1]]]), "indexes"),
    "an edit of w99": (history(edits=[[1, "w99", 0.3]]), "w99"),
    "an edit of two": (history(edits=[[1, "w5"]]), "[epoch, name, value]"),
    "a NaN edit": (history(edits=[[1, "w5", float("nan")]]), "NaN"),
    "a run backwards": (history(runs=[[5, 3]]), "runs"),
    "a value edited twice in an epoch": (
        history(edits=[[1, "w5", 0.3], [1, "w5", 0.2]], past=[[1, 0, 9, [0, 1], []]]),
        "twice in one epoch"),
    "edits out of order": (
        history(edits=[[2, "w5", 0.3], [1, "w6", 0.2]], past=[[2, 0, 9, [0, 1], []]]),
        "not in the order of their epochs"),
    "a state 200,000 epochs stepped": (history(past=[[200_001, 0, 9, [], []]]),
                                       "stepped through"),
    "1,001 states": (history(past=[[1, 0, 9, [], []]] * 1_001), "at most 1,000"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_history_is_refused_in_one_line(name: str) -> None:
    data, expected = HOSTILE[name]
    with pytest.raises(SessionFileError) as caught:
        load_session(data, "hostile.json")
    message = one_line(str(caught.value))
    assert message.startswith("hostile.json: ") and expected in message, message


def test_a_version_1_file_resumes_as_before_with_no_history() -> None:
    session = edited_session()
    document = version_1(json.loads(saved(session)))
    resumed = load_session(json.dumps(document), "old.json")
    assert resumed.state == session.state and resumed.events == session.events
    assert resumed.past == [] and resumed.future == []
    assert resumed.network.to_document() == session.network.to_document()
    again = json.loads(saved(resumed))  # saved again, as version 2
    assert again["version"] == 2 and again["history"]["past"] == []


# The saved starts ---------------------------------------------------------------------------


LATE = 3 * SAVED + 1_000  # a late epoch: three saved starts before it


@pytest.fixture(scope="module")
def late() -> tuple[Session, str]:
    """The tutorial fast-forwarded to LATE, with a move, an edit and moves on after it."""
    session = Session(load_preset("mazur"))
    assert session.fast_forward(SAVED + 100)  # epoch SAVED + 101
    assert session.next_epoch() and session.goto(3)
    assert session.edit("w5", 0.3)
    assert session.fast_forward(LATE - session.epoch) and session.epoch == LATE
    assert session.goto(5)
    return session, saved(session)


def test_the_document_keeps_the_start_of_every_saved_th_epoch(late) -> None:
    session, text = late
    document = json.loads(text)
    assert document["version"] == 2 and SAVED == 4_096 and SAVED % CHECKPOINT == 0
    checkpoints = document["checkpoints"]
    assert checkpoints["every"] == SAVED
    assert [c["epoch"] for c in checkpoints["starts"]] == [SAVED, 2 * SAVED, 3 * SAVED]
    for start in checkpoints["starts"]:
        assert start["network"] == session.timeline.start(start["epoch"]).to_document()
    lines = text.splitlines()  # the starts one line each
    assert sum(line.startswith('  {"epoch":') for line in lines) == 3


def test_a_late_resume_reaches_any_epoch_at_a_fixed_cost(late, monkeypatch) -> None:
    """Resumed at a late epoch, every move runs at most SAVED + CHECKPOINT epochs: the
    previous epoch, an undo to an earlier one, and the start of any epoch up to the cursor."""
    session, text = late
    ran = counted_runs(monkeypatch)
    resumed = load_session(text, "late.json")
    assert sum(ran) <= 2 * SAVED  # the first start and the cursor's, checked
    assert resumed.state == session.state and resumed.past == session.past
    bound = SAVED + CHECKPOINT

    def cost(move: Any) -> int:
        ran.clear()
        move()
        return sum(ran)

    # the cursor's start, checked as the file was read, is kept: reaching it again runs nothing
    assert cost(lambda: resumed.network) == 0 and cost(lambda: resumed.network) == 0
    current = resumed.timeline  # the cursor's: the edit's, forked from the plain one
    for epoch in (2, SAVED - 1, SAVED, SAVED + 1, SAVED + 102, 2 * SAVED + 77, 3 * SAVED - 1,
                  LATE - 500, LATE):
        assert cost(lambda e=epoch: current.start(e)) <= bound, epoch
    assert cost(resumed.prev_epoch) <= bound and resumed.epoch == LATE - 1
    while resumed.epoch > SAVED + 101:  # undo back past the fast-forward and the edit
        assert cost(resumed.undo) <= bound
        assert cost(lambda: resumed.network) <= bound
    assert resumed.epoch == SAVED + 101 and resumed.state.edits == ()
    assert resumed.network.to_document() == session.timeline.start(SAVED + 101).to_document()
    assert cost(resumed.redo) <= bound and cost(lambda: resumed.steps) <= bound


def tampered(text: str, epoch: int) -> str:
    """The document with a weight of its saved start of ``epoch`` changed by a little."""
    document = json.loads(text)
    found = [document["checkpoint"]] + document["checkpoints"]["starts"]
    start = next(s for s in found if s["epoch"] == epoch)
    start["network"]["layer"][1]["weights"][0][0] += 1e-4
    return json.dumps(document)


def test_a_tampered_first_start_or_cursor_start_is_refused(late) -> None:
    session, text = late
    for epoch, says in ((SAVED, "the saved start of epoch 4,096 does not follow"),
                        (LATE, f"does not follow from the saved start of epoch {3 * SAVED:,}")):
        with pytest.raises(SessionFileError) as caught:
            load_session(tampered(text, epoch), "tampered.json")
        message = one_line(str(caught.value))
        assert message.startswith("tampered.json: ") and says in message, message
        assert "changed by hand" in message


def test_a_tampered_start_between_is_found_when_a_run_reaches_it(late, monkeypatch) -> None:
    """The second saved start is trusted at load, and checked as stepping reaches it: the
    computed one replaces it, and the timeline says so in one line."""
    session, text = late
    resumed = load_session(tampered(text, 2 * SAVED), "tampered.json")
    assert resumed.timeline.problem is None
    later = 2 * SAVED + 300  # worked out from the tampered start, before it is found out
    assert resumed.timeline.start(later).to_document() != (
        session.timeline.start(later).to_document())
    edits = resumed.state.edits  # the timeline of the cursor's edits holds the saved starts
    resumed.state = State(2 * SAVED - 1, 0, edits, resumed.digits)  # the epoch before it
    resumed.timeline.start(2 * SAVED - 1)
    ran = counted_runs(monkeypatch)
    assert resumed.next_epoch() and sum(ran) <= SAVED
    problem = resumed.timeline.problem
    assert problem is not None and one_line(problem).startswith(
        "the saved start of epoch 8,192 does not follow from the epochs before it")
    assert resumed.network.to_document() == session.timeline.start(2 * SAVED).to_document()
    assert resumed.events[-1] == {"action": "check", "epoch": 2 * SAVED - 1, "index": 0,
                                  "changes": [problem]}  # the log says so too
    # what was worked out from it is worked out again
    assert resumed.timeline.start(later).to_document() == (
        session.timeline.start(later).to_document())


def test_the_spacing_doubles_past_the_cap_of_saved_starts() -> None:
    assert spacing(1) == spacing(10_240_000) == SAVED
    assert spacing(10_240_000 + SAVED) == 2 * SAVED
    assert spacing(persist.MAX_EPOCH) // SAVED == 16
    assert persist.MAX_EPOCH // spacing(persist.MAX_EPOCH) <= persist.MAX_CHECKPOINTS


@pytest.mark.parametrize(("change", "says"), [
    (lambda c: c.update(every=2048), "\"checkpoints\" is not"),
    (lambda c: c["starts"].pop(0), "does not follow"),  # the first trusted: the cursor's not
    (lambda c: c["starts"].append(c["starts"][-1]), "entries"),
    (lambda c: c["starts"][1].update(epoch=5), "checkpoints.starts"),
    (lambda c: c["starts"][1]["network"].update(layer=[]), "checkpoints.starts.network"),
    (lambda c: c.pop("starts"), "\"checkpoints\" is not"),
])
def test_hostile_saved_starts_are_refused_in_one_line(late, change, says) -> None:
    session, text = late
    document = json.loads(text)
    change(document["checkpoints"])
    if says == "does not follow":  # a start dropped: tamper with the cursor's too
        document["checkpoint"]["network"]["layer"][0]["weights"][0][0] += 1e-3
    with pytest.raises(SessionFileError) as caught:
        load_session(json.dumps(document), "hostile.json")
    assert says in one_line(str(caught.value))


def at_an_edit() -> Session:
    """The tutorial at the start of epoch 4, w5 edited there: the cursor's epoch is where
    the edited timeline forks from the plain one."""
    session = Session(load_preset("mazur"))
    for _ in range(3):
        assert session.next_epoch()
    assert session.edit("w5", 0.3) and session.epoch == 4
    return session


def test_a_version_1_cursor_at_an_edits_epoch_is_still_taken_as_saved(monkeypatch) -> None:
    session = at_an_edit()
    document = version_1(json.loads(saved(session)))
    monkeypatch.setattr(persist, "MAX_CHECKED", 1)  # trusted, as far into training
    ran = counted_runs(monkeypatch)
    resumed = load_session(json.dumps(document), "old.json")
    assert sum(ran) == 0 and resumed.state == session.state
    assert resumed.network.to_document() == session.network.to_document()


def test_a_version_2_cursor_at_an_edits_epoch_is_checked() -> None:
    session = at_an_edit()
    text = saved(session)
    assert load_session(text, "s.json").network.to_document() == (
        session.network.to_document())
    with pytest.raises(SessionFileError) as caught:
        load_session(tampered(text, 4), "tampered.json")
    assert "\"checkpoint\" does not follow from the network and its edits" in one_line(
        str(caught.value))


def test_the_app_says_a_tampered_start_between_when_a_run_reaches_it(late) -> None:
    """The same in the app: a warning toast, once, with the log's line."""
    from apptools import run
    from backprop_tui.app.app import BackpropApp

    _, text = late
    resumed = load_session(tampered(text, 2 * SAVED), "tampered.json")
    resumed.state = State(2 * SAVED - 1, 0, resumed.state.edits, resumed.digits)

    async def script(app: BackpropApp, pilot) -> None:
        await pilot.press("n")
        await pilot.press("p", "n")  # the start is right now: nothing more to say

    app = run(script, app=BackpropApp(resumed))
    warned = [n for n in app._notifications if n.title == "The resumed file"]
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert str(warned[0].message).startswith(
        "the saved start of epoch 8,192 does not follow from the epochs before it")
