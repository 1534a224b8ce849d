"""Session.frozen: the session as it stood, for an export written in a thread while the app
goes on with the session."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from backprop_tui.export.formats import FORMATS
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session


def test_later_actions_leave_the_frozen_copy_as_it_was() -> None:
    session = Session(load_preset("mazur"))
    assert session.goto("E_total") and session.edit("w5", 0.5) and session.next_epoch()
    session.quiz.on = True
    twin = session.frozen()
    state, events, past = twin.state, list(twin.events), list(twin.past)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    log = "".join(FORMATS["jsonl"](twin, now))
    assert twin.timeline is session.timeline  # shared: nothing is computed twice

    assert session.goto(9) and session.edit("w1", 0.2) and session.undo()
    assert session.asks() == 10
    session.answer("0.5")  # the quiz, still on, asks for step 10
    session.quiz.on = False

    assert twin.state == state and twin.events == events and twin.past == past
    assert twin.future == [] and twin.quiz.on and twin.quiz.answers == []
    assert "".join(FORMATS["jsonl"](twin, now)) == log
    assert session.state != state and len(session.events) > len(events)
    assert json.loads(log.splitlines()[0])["type"] == "header"
