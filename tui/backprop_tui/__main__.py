"""`backprop-tui` and `python -m backprop_tui`: the command line (`cli.main`), with a ctrl+c
that comes while it is imported ending it as quietly as one that comes later.

Importing the command line takes a tenth of a second or so. Python's own ctrl+c would stop
it there with a traceback; until `main` takes over, it ends the program with 130, as
`main` does, and nothing has been written yet that would need cleaning up. A program
started with ctrl+c ignored (a shell script's job in the background) keeps it ignored.
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import NoReturn


def _quietly(signum: int, _frame: FrameType | None) -> None:
    os._exit(128 + signum)  # not an exception: one raised in an import's clean-up is ignored


def run() -> NoReturn:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _quietly)
    from backprop_tui.cli import main  # which hands ctrl+c back to Python as it starts

    raise SystemExit(main())


if __name__ == "__main__":
    run()
