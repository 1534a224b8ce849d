"""The one table of actions (app/actions.py) and what is derived from it: the bindings, the
palette, the help screen's rows, availability, the option switches; and the README's key
table, which must list the same rows as the help screen."""

from __future__ import annotations

import pathlib
from dataclasses import replace

import pytest
from apptools import run, settle
from backprop_tui.app import actions
from backprop_tui.app.actions import BY_NAME, HELP, HELP_ROWS, PALETTE, TABLE, HelpRow
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.screens.main import MainScreen
from backprop_tui.functions import ACTIVATIONS
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.pilot import Pilot

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"

# Textual's key names as the help screen writes them (any other key: as it is).
KEY_SHOWN = {"right": "→", "left": "←", "home": "Home", "end": "End",
             "right_square_bracket": "]", "left_square_bracket": "[", "colon": ":",
             "right_curly_bracket": "}", "left_curly_bracket": "{",
             "plus": "+", "minus": "-", "question_mark": "?", "f1": "F1", "f2": "F2"}


def normalised(keys: str) -> str:
    """A keys cell without its punctuation: no backticks or commas, single spaces."""
    return " ".join(keys.replace("`", "").replace(",", " ").split())


def readme_key_rows() -> list[str]:
    """The keys column of the table under "## The app" in README.md, normalised."""
    section = README.read_text("utf-8").split("\n## The app\n", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = lines.index("| keys | action |") + 2  # after the header and its rule
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(normalised(line.split("|")[1]))
    return rows


def test_the_readme_key_table_lists_the_help_screens_rows() -> None:
    readme = readme_key_rows()
    help_rows = [normalised(keys) for keys, _ in HELP_ROWS]
    assert (readme[0], readme[-1]) == ("→ l space", "in a browser")  # the whole table is read
    assert sorted(readme) == sorted(help_rows)


def test_every_action_has_its_method_and_a_place_in_the_palette_and_help() -> None:
    assert [action.name for action in TABLE] == list(BY_NAME)  # no name twice
    for action in TABLE:
        assert callable(getattr(BackpropApp, f"action_{action.name}", None)), action.name
    assert sorted(PALETTE) == sorted(a.name for a in TABLE if a.palette_title)
    assert all(BY_NAME[name].palette_help for name in PALETTE)
    in_help = [item for item in HELP if isinstance(item, str)]
    assert sorted(in_help) == sorted(a.name for a in TABLE if a.help_keys)
    assert [row.help_keys for row in HELP if isinstance(row, HelpRow)] == [
        "click", "Tab  /  shift+Tab", "↑ ↓  PgUp PgDn", "in a browser"]


def test_the_help_screen_lists_every_bound_key() -> None:
    listed = {key for keys, _ in HELP_ROWS for key in keys.split()}
    for action in TABLE:
        if action.name in ("cancel_run", "cancel_export"):  # "(Escape cancels)", "stops it"
            assert "Escape" in BY_NAME["fast_forward"].help_text
            assert "Escape" in BY_NAME["export"].help_text
            continue
        for key in filter(None, action.keys.split(",")):  # "": the palette's alone
            assert KEY_SHOWN.get(key, key) in listed, (action.name, key)


def test_the_bindings_palette_and_help_are_the_tables() -> None:
    bindings = {binding.action: binding for binding in BackpropApp.BINDINGS}
    # The footer's and the keys panel's order; an action of the palette alone has none.
    assert list(bindings) == [name for name, action in BY_NAME.items() if action.keys]
    assert "quiz_tolerance" not in bindings
    next_ = bindings["next"]
    assert (next_.key, next_.description, next_.priority, next_.tooltip) == (
        "right,l,space", "Next", True, "Compute the next value")
    assert [name for name, binding in bindings.items() if binding.show] == [
        "help", "leave", "cancel_run", "cancel_export", "next", "prev", "next_phase",
        "next_example", "next_epoch", "goto",
        "fast_forward", "undo", "toggle_curve", "more_digits"]  # Help and Quit first
    assert actions.COMMANDS[0] == ("next", "Next step", "Compute the next value")
    assert HELP_ROWS[2] == ("Home g  /  End G", "first / last step of the epoch")


def test_availability_at_the_start_while_running_and_otherwise() -> None:
    session = Session(load_preset("mazur"))
    # Before the session is built: a new session, nothing behind the cursor.
    assert [actions.availability(name, None, False)
            for name in ("next", "prev", "undo", "cancel_run", "quit")] == [
        True, None, None, False, True]
    assert actions.availability("prev", session, False) is None  # greyed
    assert actions.availability("cancel_run", session, False) is False  # hidden
    session.goto(3)
    assert actions.availability("prev", session, False) is True
    running = {name: actions.availability(name, session, True) for name in BY_NAME}
    assert running["cancel_run"] and running["next"] and running["prev"] and running["help"]
    assert {name for name, applies in running.items() if applies is None} == {
        "next_epoch", "prev_epoch", "fast_forward", "undo", "redo", "export", "open", "edit",
        "quiz"}
    session.last()
    assert actions.availability("next", session, True) is None  # not into the run's epoch
    assert actions.availability("next", session, False) is True


def test_option_switches_list_every_choice_the_current_one_said(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "LOSSES", ("half_sse", "mse", "cross_entropy"))
    monkeypatch.setattr(actions, "UPDATE_ORDERS", ("after_backward", "during_backward", "x"))
    found = list(actions.switches(load_preset("mazur")))
    titles = [switch.title for switch in found]
    assert titles[:12] == ["Biases: kept fixed", "Biases: updated too",
                           "Update order: after_backward", "Update order: during_backward",
                           "Update order: x", "Optimizer: sgd", "Optimizer: momentum",
                           "Optimizer: nesterov", "Optimizer: adam", "Loss: half_sse",
                           "Loss: mse", "Loss: cross_entropy"]
    assert [t for t in titles if t.startswith("Layer 2")] == [
        f"Layer 2: {name}" for name in ACTIVATIONS]
    assert titles[-6:] == ["Hand rounding: off", *(f"Hand rounding: {d} significant digits"
                                                   for d in (3, 4, 5, 6, 9))]
    current = {s.title for s in found if s.current}
    assert current == {"Biases: kept fixed", "Update order: after_backward", "Optimizer: sgd",
                       "Loss: half_sse", "Layer 1: sigmoid", "Layer 2: sigmoid",
                       "Hand rounding: off"}
    assert {s.now for s in found if s.option == "optimizer"} == {"sgd"}
    rounded = [s for s in actions.switches(replace(load_preset("mazur"), rounding=7))
               if s.option == "rounding"]  # a file's rounding, not among the choices: first
    assert [(s.title, s.current) for s in rounded[:2]] == [
        ("Hand rounding: 7 significant digits", True), ("Hand rounding: off", False)]
    switch = next(s for s in actions.switches(load_preset("mazur")) if s.title == "Loss: mse")
    assert (switch.option, switch.value) == ("loss", "mse")


def test_the_main_screen_is_the_first_on_the_stack() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        assert isinstance(app.screen_stack[0], MainScreen) and app.screen_stack[0] is app.main
        app.action_help()
        await settle(pilot)
        app.session.goto("E_total")
        app.render_session()  # drawn on the main screen under the dialog
        await settle(pilot)
        assert app.main.has_class("-wide") and not app.main.has_class("-too-small")
        status = str(app.main.query_one("#status").render())
        assert f"step {app.session.index} of 55" in status and "E_total 0.298371109" in status

    run(script)
