"""What the app opens on before its session exists: the network as given, and how to build
the session.

Building a session imports numpy and traces the first epoch. The app draws its first frame
from the checked network file alone (an Opening) and builds the session right after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backprop_tui.network import Given

if TYPE_CHECKING:
    from backprop_tui.app.preferences import Preferences
    from backprop_tui.netfile import Source
    from backprop_tui.session.session import Session


@dataclass(frozen=True)
class Opening:
    """A new session not built yet: its network as given, and how to build it."""

    given: Given
    build: Callable[[], Session]


def new_session(given: Given, source: Source, preferences: Preferences) -> Session:
    """A new session on ``given``, as the app starts one (at its start or by ctrl+o): with
    the digits and the quiz's tolerance of the preferences (the command line's flags, at the
    start, apply after)."""
    from backprop_tui.session.session import Session, State

    state = State() if preferences.digits is None else State(digits=preferences.digits)
    session = Session(given.network(), state, source=source)
    if preferences.tolerance is not None:
        session.quiz.tolerance = preferences.tolerance
    return session
