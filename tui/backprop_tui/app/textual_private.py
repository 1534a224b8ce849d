"""The one place the app reaches into Textual's private API.

Checked against textual==8.2.8 (pinned in tests/constraints.txt); tests/test_app_textual.py
fails if what is used here goes away. On a Textual upgrade, read ``Widget._size_updated``
and ``Widget._scroll_update`` again.

- ``set_virtual_size_quietly``: the values panel gains a row per step. Setting
  ``virtual_size`` the public way makes Textual lay out the whole screen (the reactive is
  declared ``layout=True``), a frame's worth of work per key press. Textual's own resize
  path (``Widget._size_updated`` with ``layout=False``) instead sets the reactive without
  its watchers and calls ``_scroll_update``, which sizes the scrollbars and lays out only
  when one comes or goes; this does the same.

- ``FooterKey``: the footer's key widget (``textual.widgets._footer``; not exported by
  ``textual.widgets``). The main screen's footer (components/footer.py) makes them as
  Textual's ``Footer.compose`` does, keeping those that fit whole.

- ``set_footer_key``: that footer changes a key widget in place rather than making the
  footer's keys again. A FooterKey keeps its key, text and action in plain attributes
  and whether it applies in ``_disabled`` (a click on one that does not rings the bell)
  and in the ``-disabled`` class; it draws them in ``render``.

- ``hold_frames`` / ``show_frames``: in a browser, the app's start is sent as one whole
  frame. Textual draws the whole screen three or four times as an app starts (at its
  screen's resume, at the resize events it sends itself, then as the footer's keys and
  the panels settle), each a screen of bytes that the page's script parses and paints.
  ``App.batch_update`` holds frames within a ``with``; the start spans several messages,
  so this begins the batch as the main screen is made and ends it (with a repaint of the
  whole screen, as ``App.delay_update`` does) once the footer has its keys.

The export dialog's radio mark needs nothing private: it sets the public ``BUTTON_INNER``
as it renders.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets._footer import FooterKey

__all__ = ["FooterKey", "hold_frames", "set_footer_key", "set_virtual_size_quietly",
           "show_frames"]

HELD = "_backprop_frames_held"  # set on the app while hold_frames holds them


def hold_frames(app: App[Any]) -> None:
    """Nothing of ``app`` reaches the terminal until ``show_frames``."""
    if not getattr(app, HELD, False):
        setattr(app, HELD, True)
        app._begin_batch()


def show_frames(app: App[Any]) -> None:
    """The frames ``hold_frames`` held, drawn as one: the whole screen as it is now."""
    if getattr(app, HELD, False):
        setattr(app, HELD, False)
        app._end_batch()
        app.screen.refresh()


def set_virtual_size_quietly(view: ScrollView, size: Size) -> None:
    """Give ``view`` the virtual size ``size`` and update its scrollbars, without laying out
    the screen."""
    view.set_reactive(Widget.virtual_size, size)
    view._scroll_update(size)


def set_footer_key(widget: FooterKey, key: str, key_display: str, action: str, enabled: bool,
                   tooltip: str) -> None:
    """Make ``widget`` show ``key`` (shown as ``key_display``) for ``action``, greyed
    unless ``enabled``; its description stays."""
    resized = key_display != widget.key_display
    widget.key, widget.key_display, widget.action = key, key_display, action
    widget._disabled = not enabled
    if tooltip != (widget.tooltip or ""):
        widget.tooltip = tooltip or None
    widget.set_class(not enabled, "-disabled")
    widget.refresh(layout=resized)
