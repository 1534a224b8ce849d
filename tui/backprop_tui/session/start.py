"""What a session starts from: where its network came from, and, in the app, an opening.

Building a session imports numpy and traces the first epoch. The app draws its first frame
from the checked network file alone (an Opening) and builds the session right after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backprop_tui.netfile import NetworkFileError, parse_given
from backprop_tui.network import Given, Printed

if TYPE_CHECKING:
    from backprop_tui.session.session import Session


@dataclass(frozen=True)
class Source:
    """Where the network came from, for the session log's header."""

    kind: str  # "preset" or "file"
    name: str  # the preset's name or the file's path
    text: str  # the network file's full contents

    def printed(self) -> tuple[Printed, ...]:
        """The file's [printed] values; none if the text no longer parses."""
        try:
            return parse_given(self.text, self.name).printed
        except NetworkFileError:
            return ()


@dataclass(frozen=True)
class Opening:
    """A new session not built yet: its network as given, and how to build it."""

    given: Given
    build: Callable[[], Session]
