"""The private Textual API the app uses (app/textual_private.py): still there, and still
doing what the app relies on. A failure here after a Textual upgrade means that module
needs another look, not the app's tests."""

from __future__ import annotations

import asyncio
import inspect

from backprop_tui.app.textual_private import FooterKey, set_footer_key, set_virtual_size_quietly
from textual.app import App, ComposeResult
from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.widget import Widget


def test_the_private_attributes_are_there() -> None:
    assert isinstance(Widget.__dict__["virtual_size"], Reactive)
    assert Widget.__dict__["virtual_size"]._layout  # why it is set quietly
    assert list(inspect.signature(ScrollView._scroll_update).parameters) == [
        "self", "virtual_size"]
    assert list(inspect.signature(FooterKey).parameters) == [
        "key", "key_display", "description", "action", "disabled", "tooltip", "classes"]
    key = FooterKey("minus", "-", "Digits", "fewer_digits", disabled=True)
    assert (key.key_display, key.description, key.action) == ("-", "Digits", "fewer_digits")
    assert key.has_class("-disabled")


class Rows(ScrollView):
    pass


class RowsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Rows()


def test_set_virtual_size_quietly_sizes_the_view_and_its_scrollbar() -> None:
    sizes: list[object] = []

    async def main() -> None:
        app = RowsApp()
        async with app.run_test(size=(20, 10)) as pilot:
            view = app.query_one(Rows)
            set_virtual_size_quietly(view, Size(5, 50))
            await pilot.pause()
            view.scroll_to(y=100, animate=False)
            await pilot.pause()
            sizes.extend([view.virtual_size, view.show_vertical_scrollbar,
                          view.vertical_scrollbar.window_virtual_size, view.scroll_y])

    asyncio.run(main())
    assert sizes == [Size(5, 50), True, 50, 40]  # scrolled to the last of 50 rows in 10


class KeyApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FooterKey("plus", "+/-", "Digits", "more_digits", disabled=True, tooltip="More")


def test_set_footer_key_changes_a_key_in_place() -> None:
    seen: list[object] = []

    async def main() -> None:
        app = KeyApp()
        async with app.run_test(size=(30, 3)) as pilot:
            key = app.query_one(FooterKey)
            width = key.size.width
            set_footer_key(key, "minus", "-", "fewer_digits", True, "Fewer")
            await pilot.pause()
            seen.extend([key.key, key.key_display, key.action, key.description,
                         key.has_class("-disabled"), key._disabled, key.tooltip,
                         width - key.size.width])
            set_footer_key(key, "minus", "-", "fewer_digits", False, "Fewer")
            seen.extend([key.has_class("-disabled"), key._disabled])

    asyncio.run(main())
    assert seen == ["minus", "-", "fewer_digits", "Digits", False, False, "Fewer", 2, True,
                    True]
