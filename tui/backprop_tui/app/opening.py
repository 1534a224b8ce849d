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
    from backprop_tui.session.session import Session


@dataclass(frozen=True)
class Opening:
    """A new session not built yet: its network as given, and how to build it."""

    given: Given
    build: Callable[[], Session]
