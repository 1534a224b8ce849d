"""The command palette's providers: every action with its keys, the option switches with
the value in force and every choice, the steps of the epoch, the values to edit."""

from __future__ import annotations

import re

from apptools import palette_highlights, run, screen_text, settle, submit, wait_until
from backprop_tui.app import actions, commands
from backprop_tui.app.actions import BY_NAME, PALETTE
from backprop_tui.app.app import BackpropApp
from backprop_tui.app.commands import (
    COLUMN,
    ActionsProvider,
    Command,
    StepsProvider,
    ValuesProvider,
    prompt,
)
from backprop_tui.app.screens.edit import ValueScreen
from backprop_tui.presets import load_preset
from backprop_tui.session.session import Session
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Provider
from textual.pilot import Pilot


async def found(provider: Provider, query: str) -> list[Hit]:
    """The provider's hits for ``query``, best first (as the palette orders them)."""
    hits = [hit async for hit in provider.search(query) if isinstance(hit, Hit)]
    return sorted(hits, key=lambda hit: hit.score, reverse=True)


def first_line(hit: Hit | DiscoveryHit) -> str:
    """A hit's line as the palette draws it (its help goes on the next)."""
    shown = hit.prompt
    return shown.plain if hasattr(shown, "plain") else str(shown)


# Actions and their keys -----------------------------------------------------------------


def test_every_action_shows_its_keys_in_a_column() -> None:
    assert BY_NAME["next"].keys_shown == "→ l space"
    assert BY_NAME["undo"].keys_shown == "ctrl+z u"
    assert BY_NAME["help"].keys_shown == "? f1"
    assert BY_NAME["copy"].keys_shown == "y"
    assert BY_NAME["quiz_tolerance"].keys_shown == ""  # the palette's alone

    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.goto(16)  # so that the moves back and undo apply too
        listed = list(commands.action_commands(app))
        assert [c.title for c in listed] == [BY_NAME[name].palette_title for name in PALETTE
                                             if app.available(name)]
        for command in listed:
            action = next(a for a in actions.TABLE if a.palette_title == command.title)
            assert command.aside == action.keys_shown
            line = prompt(command).plain
            assert line == (command.title.ljust(COLUMN) + action.keys_shown).rstrip(), line
        assert {"Undo", "Previous step", "Copy the step"} <= {c.title for c in listed}

    run(script)


def test_the_palette_at_80_columns_shows_titles_and_keys_on_one_line() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 40)
        await settle(pilot)
        text = screen_text(app)
        assert re.search(r"^  Next step +→ l space +", text, re.M), text
        assert re.search(r"^  First step of the epoch +home g +", text, re.M), text
        assert "A command, a step (w5, step 16) or a value to edit (w5, eta)…" in text

    run(script, size=(80, 24))


def test_discovery_lists_the_actions_then_the_switches_then_textuals_own() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        hits = [hit async for hit in ActionsProvider(app.screen).discover()]
        texts = [hit.text for hit in hits]
        assert texts[0] == "Next step"
        assert texts.index("Help") < texts.index("Biases: kept fixed") < texts.index("Theme")
        assert texts[-5:] == ["Theme", "Quit", "Keys", "Maximize", "Screenshot"]

    run(script)


# Option switches ------------------------------------------------------------------------


def test_switches_show_the_value_in_force_and_every_choice() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        hits = await found(ActionsProvider(app.screen), "Optimizer")
        lines = {first_line(hit) for hit in hits}
        pad = " " * (COLUMN - len("Optimizer: sgd"))
        assert {f"Optimizer: sgd{pad}current", f"Optimizer: adam{pad[:-1]}now sgd",
                f"Optimizer: momentum{pad[:-5]}now sgd",
                f"Optimizer: nesterov{pad[:-5]}now sgd"} <= lines, lines
        current = next(hit for hit in hits if hit.text == "Optimizer: sgd")
        assert current.help == commands.CURRENT_HELP
        current.command()
        await settle(pilot)
        assert app.session.network.optimizer == "sgd" and not app.session.past
        assert [n.message for n in app._notifications] == ["Optimizer is sgd already"]
        next(hit for hit in hits if hit.text == "Optimizer: adam").command()
        await settle(pilot)
        assert app.session.network.optimizer == "adam" and app.session.can_undo()
        hits = await found(ActionsProvider(app.screen), "Optimizer")
        assert f"Optimizer: adam{pad[:-1]}current" in {first_line(hit) for hit in hits}

    run(script, notifications=True)


# The steps of the epoch -----------------------------------------------------------------


def test_the_steps_provider_finds_a_step_by_its_name_and_goes_to_it() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        hits = await found(StepsProvider(app.screen), "dE/dw5")
        assert hits[0].text == "∂E/∂w₅ · step 16 · Output layer"
        assert hits[0].help == "∂E/∂w₅ = δ_o₁·∂net_o₁/∂w₅"  # not computed yet: no value
        hits[0].command()
        await settle(pilot)
        assert app.session.index == 16
        hits = await found(StepsProvider(app.screen), "step 16")
        assert hits[0].text == "∂E/∂w₅ · step 16 · Output layer"
        assert hits[0].help == "∂E/∂w₅ = δ_o₁·∂net_o₁/∂w₅ = 0.0821670406"
        app.action_undo()  # the move is undoable
        assert app.session.index == 0

    run(script)


def test_the_steps_provider_lists_every_step_of_the_epoch_fuzzily() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        hits = await found(StepsProvider(app.screen), "step")
        assert len(hits) == len(app.session.steps) == 55
        w5 = await found(StepsProvider(app.screen), "w5")
        best = [hit.text for hit in w5[:3]]
        assert set(best) == {"w₅⁺ · step 17 · Output layer", "∂E/∂w₅ · step 16 · Output layer",
                             "∂net_o₁/∂w₅ · step 15 · Output layer"}, best

    run(script)


def test_a_step_chosen_in_the_palette_by_keys() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        await pilot.press("ctrl+p", *"dE/dw5")
        await palette_highlights(app, pilot, "∂E/∂w₅ · step 16 · Output layer")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.index == 16

    run(script)


# The values to edit ---------------------------------------------------------------------


def test_the_values_provider_shows_each_value_now_and_edits_it() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        hits = await found(ValuesProvider(app.screen), "w5")
        assert hits[0].text == "w5 = 0.4"
        assert hits[0].help == "Edit a weight (h1 → o1) from the start of epoch 1"
        hits[0].command()
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen)
        await submit(app, pilot, "0.3")
        assert app.session.current_value("w5") == 0.3
        assert [n.message for n in app._notifications] == ["w5 0.4 → 0.3 from epoch 1"]
        hits = await found(ValuesProvider(app.screen), "w5")
        assert hits[0].text == "w5 = 0.3"
        eta = await found(ValuesProvider(app.screen), "learning")
        assert eta[0].text == "η = 0.5"
        assert eta[0].help == "Edit the learning rate from the start of epoch 1"
        assert [hit async for hit in ValuesProvider(app.screen).discover()] == [
            NotImplemented]  # nothing typed: the palette lists the actions, no value

    run(script, notifications=True)


def test_the_values_provider_lists_what_e_offers() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        everything = [command.title.split(" = ")[0]
                      for command in commands.value_commands(app)]
        assert everything == [*app.session.network.names.parameters(), "η"]
        assert "w1 = 0.15" in {c.title for c in commands.value_commands(app)}

    run(script)


def test_an_example_s_input_is_found_and_drawn_as_text_not_markup() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.session.goto("out_o1[2]")
        hits = await found(ValuesProvider(app.screen), "i1[2]")
        assert hits[0].text.startswith("i1[2] = ")
        assert first_line(hits[0]) == hits[0].text  # the brackets kept, no markup read
        assert hits[0].help == "Edit an input of example 2 from the start of epoch 1"
        assert prompt(Command("[b]x[/b]", "", lambda: None, "[i]")).plain == (
            "[b]x[/b]".ljust(COLUMN) + "[i]")

    run(script, app=BackpropApp(Session(load_preset("xor"))))


def test_edits_wait_during_a_fast_forward_and_so_do_the_values_and_switches() -> None:
    async def script(app: BackpropApp, pilot: Pilot) -> None:
        app.start_run(5_000_000)
        await wait_until(pilot, lambda: app.session.timeline.known() > 20)
        assert not list(commands.value_commands(app))
        assert not list(commands.switch_commands(app))
        assert list(commands.step_commands(app))  # moving within the epoch still applies
        app.action_cancel_run()
        await wait_until(pilot, lambda: not app.available("cancel_run"))
        await settle(pilot)

    run(script)
