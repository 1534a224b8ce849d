"""What every test shares: the signal handlers a command sets are put back after each test,
and the app's preferences live in a folder of the test's own (never the user's)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

# The headless commands set these for their process (SIGPIPE to the default, TERM and HUP to
# a clean exit, the others ignored on the way out after an interrupt); a test that calls
# main() in pytest's process must not leave them so.
SIGNALS = (signal.SIGINT, signal.SIGPIPE, signal.SIGTERM, signal.SIGHUP)


@pytest.fixture(autouse=True)
def _keep_signal_handlers() -> Iterator[None]:
    saved = {number: signal.getsignal(number) for number in SIGNALS}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture(autouse=True)
def _own_config_folder(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
