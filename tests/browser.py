"""`backprop-tui serve` in a real browser: Debian's headless Chromium driven by playwright.

Chromium comes from Debian (`apt-get install chromium`, which `.ci/run` does when it is
missing), never from playwright's own download, which cannot reach its server here. Without
it the tests skip, saying why, except under CI=true, where they fail.

The page draws the terminal on a canvas (xterm.js), so its text is not in the page: each
page's websockets are tapped instead, and what the server sends the terminal is kept, as
text, in ``window.received``. Nothing waits for the page's load, only for the terminal's
bytes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TUI = Path(__file__).resolve().parents[1] / "tui"
CHROMIUM = "/usr/bin/chromium"
# As root in a closed network: no sandbox, no GPU, and none of the background connections
# Chromium makes at start (refused here, many at a time, which slows every page). No WebGL:
# with no GPU, Chromium would draw it in software, which the terminal's canvas does cheaper.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-3d-apis"]
# The app's header on its first frame (the mazur preset's).
FIRST_FRAME = "step 0 of 55"
# What the server sends each terminal, decoded, in window.received; window.firstFrame: the
# milliseconds from the page's navigation to the first frame's arrival; window.sockets: the
# addresses the page connected to.
TAP = """
window.received = "";
window.firstFrame = null;
const Socket = window.WebSocket;
window.WebSocket = class extends Socket {
    constructor(...args) {
        super(...args);
        window.sockets = [...(window.sockets || []), String(args[0])];
        const decoder = new TextDecoder();
        this.addEventListener("message", (event) => {
            if (typeof event.data !== "string") {
                window.received += decoder.decode(new Uint8Array(event.data), {stream: true});
                if (window.firstFrame === null && window.received.includes(FIRST_FRAME)) {
                    window.firstFrame = performance.now();
                }
            }
        });
    }
};
""".replace("FIRST_FRAME", repr(FIRST_FRAME))
VIEWPORT = {"width": 1200, "height": 800}


def chromium() -> str:
    """Chromium's path, with playwright importable; else a skip saying why (a failure under
    CI=true)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "playwright is not installed: pip install -e '.[test]'"
    else:
        found = shutil.which("chromium") or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
        if found is not None:
            return found
        missing = "Chromium is not installed: apt-get install chromium (as .ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (under CI=true the browser test must run)")
    pytest.skip(missing)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_processes(server: int) -> list[int]:
    """The processes whose parent is ``server``: its tabs' apps."""
    from backprop_tui.server import children

    return children(server)


@contextmanager
def served(state: Path, *options: str,
           host: str = "127.0.0.1") -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`backprop-tui serve` on a free port of ``host``, its sessions under ``state``: (its
    address on 127.0.0.1, its process) once it accepts connections. Stopped by ctrl+c. The apps'
    bytecode is written under ``state`` (as an installed package has it), never in the
    checkout, and read by every tab after the first."""
    port = free_port()
    env = {name: value for name, value in os.environ.items()
           if name != "PYTHONDONTWRITEBYTECODE"}
    env.update(XDG_STATE_HOME=str(state), PYTHONPYCACHEPREFIX=str(state / "bytecode"),
               PYTHONPATH=os.pathsep.join([str(TUI), os.environ.get("PYTHONPATH", "")]))
    log = (state / "server.log").open("w")  # read, when it fails to start
    server = subprocess.Popen(
        [sys.executable, "-m", "backprop_tui", "serve", "--host", host, "--port", str(port),
         *options],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # a group of its own, as in a terminal: see ctrl_c
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the server did not start:\n"
                                         + (state / "server.log").read_text()) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", server
    finally:
        if server.poll() is None:
            ctrl_c(server)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


def ctrl_c(server: subprocess.Popen[str]) -> None:
    """SIGINT to the server and its apps, as ctrl+c in its terminal sends it."""
    os.killpg(server.pid, signal.SIGINT)


@contextmanager
def browser(*flags: str) -> Iterator[Browser]:
    """Chromium, launched with FLAGS and ``flags``."""
    from playwright.sync_api import sync_playwright

    path = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=[*FLAGS, *flags])
        try:
            yield launched
        finally:
            launched.close()


def received(page: Page) -> str:
    return str(page.evaluate("window.received"))


def first_frame(page: Page, timeout: float = 60.0) -> float:
    """Seconds from the page's navigation to its terminal's first frame."""
    page.wait_for_function("window.firstFrame !== null", timeout=timeout * 1000, polling=100)
    return float(page.evaluate("window.firstFrame")) / 1000


def wait_for_text(page: Page, text: str, timeout: float = 30.0, after: int = 0) -> None:
    """Until the terminal has been sent ``text`` (after its first ``after`` characters)."""
    page.wait_for_function("([text, after]) => window.received.slice(after).includes(text)",
                           arg=[text, after], timeout=timeout * 1000)


def open_tab(page: Page, url: str) -> None:
    """The page opened, its websockets tapped, without waiting for its load."""
    page.add_init_script(TAP)
    page.goto(url, wait_until="commit")
