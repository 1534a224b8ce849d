"""The main screen's footer: Textual's, keeping only the keys that fit whole.

Textual's footer cuts its last key where the terminal ends (``c C▏``). This one leaves out,
from the end, the keys that would not fit beside the command palette's key: the bindings
come in the action table's order, Help and Quit first, so they always show. Where an
action does not apply but its ``instead`` does, that one's key takes its place (at 15
digits: ``- Digits``, not a greyed ``+/- Digits``).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from backprop_tui.app.actions import BY_NAME
from backprop_tui.app.textual_private import FooterKey

GAP = 2  # the command palette key's border and padding


class KeyFooter(Footer):
    _composed_for: tuple[object, ...] = ()  # the width and the keys it was composed for
    _waiting = False  # a recompose is on its way: it reads the bindings as they are then

    def _wanted(self) -> tuple[object, ...]:
        """What the keys shown depend on: the width, and each shown key with whether it
        applies."""
        return (self.size.width or self.app.size.width, *(
            (binding.key, binding.action, binding.description, enabled)
            for _, binding, enabled, _ in self.screen.active_bindings.values() if binding.show))

    def bindings_changed(self, screen: Screen) -> None:
        """Compose again only when a shown key changed, and once for changes that come
        before it happens (a recompose restyles a widget per key): a focus moving between
        panels, or an availability computed again to the same answer, changes nothing."""
        if self._waiting or (self.is_attached and self._composed_for
                             and self._composed_for == self._wanted()):
            return
        super().bindings_changed(screen)  # which recomposes after the next refresh if:
        self._waiting = self.is_attached and screen is self.screen and screen.app.app_focus

    def compose(self) -> ComposeResult:
        self._waiting = False
        shown = list(super().compose())
        if shown:
            self._composed_for = self._wanted()
        active = {binding.action: (binding, enabled)
                  for _, binding, enabled, _ in self.screen.active_bindings.values()}
        keys: list[Widget] = []
        palette: list[Widget] = []
        for widget in shown:
            if isinstance(widget, FooterKey) and widget.has_class("-command-palette"):
                palette.append(widget)
                continue
            if isinstance(widget, FooterKey) and widget.has_class("-disabled"):
                widget = self._instead(widget, active) or widget
            keys.append(widget)
        room = (self.size.width or self.app.size.width) - sum(
            _width(widget, self.compact) + GAP for widget in palette)
        kept: list[Widget] = []
        for widget in keys:
            room -= _width(widget, self.compact)
            if room < 0:
                break
            kept.append(widget)
        yield from kept
        yield from palette

    def _instead(self, key: FooterKey,
                 active: dict[str, tuple[Binding, bool]]) -> FooterKey | None:
        """The key of the action to show in ``key``'s place, if it applies."""
        action = BY_NAME.get(key.action)
        other = active.get(action.instead) if action is not None and action.instead else None
        if other is None or not other[1]:
            return None
        binding = other[0]
        return FooterKey(binding.key, self.app.get_key_display(binding), key.description,
                         binding.action, tooltip=binding.tooltip or binding.description
                         ).data_bind(compact=Footer.compact)

    def on_resize(self) -> None:
        """Choose the keys again for a new width (not before the first keys: they are chosen
        for the width they get, and a recompose restyles a widget per key)."""
        if self._composed_for and self._composed_for[0] != self.size.width:
            self.call_after_refresh(self.recompose)


def _width(widget: Widget, compact: bool) -> int:
    """The cells a footer key takes (as FooterKey draws it, with its margin)."""
    if not isinstance(widget, FooterKey):
        return 0
    text = len(widget.key_display) + (len(widget.description) + 1 if widget.description else 0)
    return text + (1 if compact else 2)
