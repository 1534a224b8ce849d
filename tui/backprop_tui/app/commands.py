"""The command palette's providers: every action with its keys, the option switches with
the value in force, Textual's own commands; the steps of the epoch (to go to one); the
values a person may edit, with their values now (to edit one).

Everything is derived: the actions from ``actions.TABLE`` (title, help, keys, when they
apply), the switches from ``actions.switches``, the steps and values from the session.
Searches are fuzzy (Textual's matcher); a step and a value match by their plain names
too (``w5``, ``dE/dw5``), which the symbols shown (``∂E/∂w₅``) do not spell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.markup import escape

from backprop_tui.app import actions
from backprop_tui.app.notices import option_name
from backprop_tui.numbers import fmt
from backprop_tui.steps.phases import phase_label

if TYPE_CHECKING:
    from backprop_tui.session.session import Session

# Where the keys (a switch's value now) start: after the longest action title.
COLUMN = max(len(action.palette_title) for action in actions.TABLE) + 2
SWITCH_HELP = "An option, from the start of this epoch (undoable)"
CURRENT_HELP = "The value in force this epoch"
# A given value's kind, as a value's help says it.
KINDS = {"input": "an input", "target": "a target", "weight": "a weight", "bias": "a bias"}
OPTION_WORDS = {"learning_rate": "the learning rate", "momentum": "the momentum",
                "beta1": "Adam's first moment decay", "beta2": "Adam's second moment decay",
                "epsilon": "Adam's ε"}


class PaletteApp(Protocol):
    """What the palette asks of the app (``BackpropApp``), besides its ``action_*``."""

    @property
    def session(self) -> Session: ...

    def available(self, action: str) -> bool | None: ...

    def go_to_step(self, index: int | None) -> None: ...

    def action_edit(self, name: str | None = None) -> None: ...

    def edit_names(self) -> list[str]: ...

    def switch(self, name: str, value: object) -> Callable[[], None]: ...


@dataclass(frozen=True)
class Command:
    """One line of the palette."""

    title: str  # matched as typed, its matching letters highlighted
    help: str
    run: Callable[[], object]
    aside: str = ""  # in a column after the title: the keys, an option's value now
    also: str = ""  # matched too, not shown: a step's or a value's plain name


def action_commands(app: PaletteApp) -> Iterator[Command]:
    """Every action that applies now, in the palette's order, with its keys."""
    for name in actions.PALETTE:
        if app.available(name):
            action = actions.BY_NAME[name]
            yield Command(action.palette_title, action.palette_help,
                          getattr(app, f"action_{name}"), action.keys_shown)


def switch_commands(app: PaletteApp) -> Iterator[Command]:
    """Every value of every option, the one in force said to be (nothing while edits
    wait: during a fast-forward)."""
    if not app.available("edit"):
        return
    for switch in actions.switches(app.session.network):
        if switch.current:
            yield Command(switch.title, CURRENT_HELP, app.switch(switch.option, switch.value),
                          "current")
        else:
            yield Command(switch.title, SWITCH_HELP, app.switch(switch.option, switch.value),
                          f"now {switch.now}")


def step_commands(app: PaletteApp) -> Iterator[Command]:
    """The steps of the epoch: '∂E/∂w₅ · step 16 · Output layer', its formula (and its
    value once computed) below; going to one is an undoable move."""
    if not app.available("goto"):
        return
    session = app.session
    for step in session.steps:
        value = (f" = {step.value_text(session.digits)}" if step.index <= session.index
                 else "")
        yield Command(f"{step.symbol} · step {step.index} · {phase_label(step.phase)}",
                      f"{step.symbol} = {step.formula}{value}",
                      partial(app.go_to_step, step.index), also=step.key)


def value_commands(app: PaletteApp) -> Iterator[Command]:
    """The values an edit may change, as ``e`` names them, with their values now:
    'w5 = 0.4'; choosing one asks for its new value."""
    if not app.available("edit"):
        return
    session = app.session
    names = session.network.names
    for typed in app.edit_names():
        name = session.editable(typed)
        if name is None:
            continue
        value = session.current_value(name)
        shown = fmt(value, session.digits) if isinstance(value, float) else str(value)
        given = names.given(name)
        what = OPTION_WORDS.get(name, "") if given is None else _given_words(app, given)
        yield Command(f"{option_name(name)} = {shown}",
                      f"Edit {what} from the start of epoch {session.epoch:,}",
                      partial(app.action_edit, name), also=f"{typed} {name}")


def _given_words(app: PaletteApp, given: tuple[str, int, int, int, int]) -> str:
    """'a weight (h1 → o1)', 'a bias', 'an input', 'a target' (of example k, with several)."""
    kind, layer, row, column, example = given
    units = app.session.network.names.units
    if kind == "weight":
        return f"a weight ({units[layer][column]} → {units[layer + 1][row]})"
    several = app.session.network.examples > 1
    return KINDS[kind] + (f" of example {example + 1}" if several and kind in (
        "input", "target") else "")


def textual_commands(provider: Provider) -> Iterator[Command]:
    """Textual's own: the theme, the keys panel, a screenshot, quit."""
    for title, help_text, callback, _ in provider.app.get_system_commands(provider.screen):
        yield Command(title, help_text, callback)


def prompt(command: Command, matcher: Matcher | None = None) -> Content:
    """The title (its letters that match highlighted), then the aside in its column. A
    Content, so that names such as ``i1[2]`` are never read as markup."""
    title = Content(command.title)
    if matcher is not None:
        _, offsets = matcher.fuzzy_search.match(matcher.query, command.title)
        for offset in offsets:
            title = title.stylize(matcher.match_style, offset, offset + 1)
    if not command.aside:
        return title
    gap = " " * max(2, COLUMN - len(command.title))
    return Content.assemble(title, gap, Content.from_markup("[$text-accent]$aside[/]",
                                                            aside=command.aside))


class _Palette(Provider):
    """A provider of ``commands``, searched fuzzily by title (and by ``also``)."""

    @property
    def backprop(self) -> PaletteApp:
        return cast("PaletteApp", self.app)

    def commands(self) -> Iterable[Command]:
        raise NotImplementedError

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = max(matcher.match(command.title),
                        matcher.match(command.also) if command.also else 0.0)
            if score > 0:
                shown = matcher if matcher.match(command.title) else None
                yield Hit(score, prompt(command, shown), command.run, text=command.title,
                          help=escape(command.help))


class ActionsProvider(_Palette):
    """The actions with their keys, the option switches, Textual's commands: these are
    what the palette lists before anything is typed, in this order."""

    def commands(self) -> Iterable[Command]:
        yield from action_commands(self.backprop)
        yield from switch_commands(self.backprop)
        yield from textual_commands(self)

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(prompt(command), command.run, text=command.title,
                               help=escape(command.help))


class StepsProvider(_Palette):
    """The steps of the epoch, found by typing (there are dozens to thousands)."""

    def commands(self) -> Iterable[Command]:
        return step_commands(self.backprop)


class ValuesProvider(_Palette):
    """The values a person may edit, found by typing."""

    def commands(self) -> Iterable[Command]:
        return value_commands(self.backprop)


PROVIDERS: set[type[Provider] | Callable[[], type[Provider]]] = {
    ActionsProvider, StepsProvider, ValuesProvider}
PLACEHOLDER = "A command, a step (w5, step 16) or a value to edit (w5, eta)…"
