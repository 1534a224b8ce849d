"""The main screen's footer: Textual's, keeping only the keys that fit whole, and changing
its keys in place.

Textual's footer cuts its last key where the terminal ends (``c C▏``). This one leaves out,
from the end, the keys that would not fit beside the command palette's key: the bindings
come in the action table's order, Help and Quit first, so they always show. Where an
action does not apply but its ``instead`` does, that one's key takes its place (at 15
digits: ``- Digits``, not a greyed ``+/- Digits``). In a browser (``backprop-tui serve``),
the command palette's key shown is F2: the browser keeps ctrl+p for printing.

Textual's footer makes its key widgets again whenever any binding changes (and only a
refresh after the rest of the screen is drawn). Making a dozen widgets restyles each: at
every key that changes what applies, that was a frame's worth of work and a heap of
garbage for the collector. This one makes its keys with the screen, and when only whether
a key applies changes (or which key an ``instead`` shows), it updates the widgets it has;
it makes them again only when the width or the keys shown change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from backprop_tui.app.actions import BY_NAME
from backprop_tui.app.textual_private import FooterKey, set_footer_key

GAP = 2  # the command palette key's border and padding


class Shown(NamedTuple):
    """One key as the footer shows it."""

    key: str
    key_display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    palette: bool = False  # the command palette's, docked on the right

    def width(self, compact: bool) -> int:
        """The cells it takes (as FooterKey draws it, with its margin)."""
        text = len(self.key_display) + (len(self.description) + 1 if self.description else 0)
        return text + (1 if compact else 2)


class KeyFooter(Footer):
    _shown: tuple[Shown, ...] = ()  # the keys the widgets show now
    _width = 0  # the width they were chosen for
    _waiting = False  # a recompose is on its way: it reads the bindings as they are then

    def __init__(self) -> None:
        super().__init__()
        # The keys are made with the screen (Textual's waits for a first change of the
        # bindings, a refresh later): the first frame is whole at once.
        self.set_reactive(Footer._bindings_ready, True)

    def choose(self) -> tuple[Shown, ...]:
        """The keys to show at the current width, in the table's order, the command
        palette's last; each action's first key, as Textual's footer shows it."""
        app = self.app
        active = self.screen.active_bindings
        first: dict[str, Shown] = {}
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in first:
                first[binding.action] = Shown(binding.key, app.get_key_display(binding),
                                              binding.description, binding.action, enabled,
                                              tooltip)
        applies = {binding.action: (binding, enabled) for _, binding, enabled, _ in
                   active.values()}
        keys = [shown if shown.enabled else _instead(shown, applies, app.get_key_display)
                for shown in first.values()]
        palette: list[Shown] = []
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            found = active.get(app.COMMAND_PALETTE_BINDING)
            if app.is_web and "palette" in applies:  # a browser keeps ctrl+p: F2 instead
                found = active.get(applies["palette"][0].key)
            if found is not None:
                _, binding, enabled, _ = found
                palette.append(Shown(binding.key, app.get_key_display(binding),
                                     binding.description, binding.action, enabled,
                                     binding.tooltip or binding.description, palette=True))
        room = self._room() - sum(shown.width(self.compact) + GAP for shown in palette)
        kept: list[Shown] = []
        for shown in keys:
            room -= shown.width(self.compact)
            if room < 0:
                break
            kept.append(shown)
        return (*kept, *palette)

    def _room(self) -> int:
        return self.size.width or self.app.size.width

    def bindings_changed(self, screen: Screen) -> None:
        """Update the keys in place when only whether they apply changed; compose again
        when the keys shown did, once for the changes that come before it happens."""
        if self._waiting:
            return
        if self.is_attached and screen is self.screen and self._shown:
            wanted = self.choose()
            if [_slot(shown) for shown in wanted] == [_slot(shown) for shown in self._shown]:
                self._update(wanted)
                return
        super().bindings_changed(screen)  # which recomposes after the next refresh if:
        self._waiting = self.is_attached and screen is self.screen and screen.app.app_focus

    def _update(self, wanted: tuple[Shown, ...]) -> None:
        """Give the key widgets ``wanted``'s keys (the same keys, each where it was)."""
        if wanted == self._shown:
            return
        for widget, old, new in zip(self.query_children(FooterKey), self._shown, wanted,
                                    strict=True):
            if new != old:
                set_footer_key(widget, new.key, new.key_display, new.action, new.enabled,
                               new.tooltip)
        self._shown = wanted

    def compose(self) -> ComposeResult:
        self._waiting = False
        self._shown = self.choose()
        self._width = self._room()
        for shown in self._shown:
            key = FooterKey(shown.key, shown.key_display, shown.description, shown.action,
                            disabled=not shown.enabled, tooltip=shown.tooltip,
                            classes="-command-palette" if shown.palette else "")
            if not shown.palette:  # (set before it mounts: then its style is worked out once)
                key.set_reactive(FooterKey.compact, self.compact)
            yield key

    def watch_compact(self) -> None:
        """The keys are made for one style (Textual's footer binds theirs to its own)."""
        if self._shown:
            self.call_after_refresh(self.recompose)

    def on_resize(self) -> None:
        """Choose the keys again for a new width: compose again if others fit."""
        if self._shown and self._width != self.size.width:
            self._width = self.size.width
            wanted = self.choose()
            if [_slot(shown) for shown in wanted] == [_slot(shown) for shown in self._shown]:
                self._update(wanted)
            else:
                self.call_after_refresh(self.recompose)


def _slot(shown: Shown) -> tuple[str, bool]:
    """Which key a widget is, whatever its state: an ``instead`` keeps its description."""
    return shown.description, shown.palette


def _instead(shown: Shown, applies: dict[str, tuple[Binding, bool]],
             key_display: Callable[[Binding], str]) -> Shown:
    """The key of the action to show in ``shown``'s place where that one applies (its
    description kept), else ``shown``."""
    action = BY_NAME.get(shown.action)
    other = applies.get(action.instead) if action is not None and action.instead else None
    if other is None or not other[1]:
        return shown
    binding = other[0]
    return shown._replace(key=binding.key, key_display=key_display(binding),
                          action=binding.action, enabled=True,
                          tooltip=binding.tooltip or binding.description)
