"""textual-serve's Server, made to stop its tabs' apps when it stops, and to tell the teacher
what a teacher needs (imported only by `backprop-tui serve`).

textual-serve's own Server, told to stop while a browser tab is open, waits for the tab to
close its websocket (aiohttp gives it a minute, then drops it): its app processes live on
meanwhile. This one cancels every tab's handler as it shuts down, which tells each app to
quit (so each saves its session) and waits for it to end: while the event loop still runs,
so that asyncio hears of each exit (after it closes, each would print a traceback).

textual-serve prints its logo, the command each tab runs and a line per request. The
teacher's terminal shows the address to give the class, a line as each tab opens and
closes, and any warning or error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from pathlib import Path

from aiohttp import web
from textual_serve.server import Server

# The page: ours, which asks nothing of other servers (see templates/app_index.html).
PAGE = Path(__file__).parent / "templates"
# How long the app processes have, once told to quit, to end by themselves.
GRACE = 5.0


def _say(line: str) -> None:
    """A line for the teacher, with the time it happened; one that cannot be written (a full
    disk, a closed terminal) is dropped: the class goes on."""
    try:
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)
    except (OSError, ValueError):
        pass


def children(parent_pid: int | None = None) -> list[int]:
    """The child processes of ``parent_pid`` (this process), from Linux's /proc (none found
    elsewhere)."""
    me, found = os.getpid() if parent_pid is None else parent_pid, []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        # "pid (name) state ppid …": the name may hold spaces and parentheses
        state, parent = text[text.rfind(")") + 2:].split()[:2]
        if int(parent) == me and state != "Z":
            found.append(int(text.split(maxsplit=1)[0]))
    return found


def end_children() -> None:
    """Once the server has stopped: any app process still there (one that hangs) gets TERM,
    and KILL if it is still there after a second."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        left = children()
        for pid in left:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 1.0
        while left and children() and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in left:  # reaped, so none is left a zombie
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


class TabServer(Server):
    """textual-serve's Server, whose shutdown ends every tab's app."""

    def __init__(self, command: str, host: str, port: int, title: str,
                 public_url: str | None, address: str) -> None:
        """``address``: the one the teacher gives the class (see serve.address_to_give)."""
        super().__init__(command, host=host, port=port, title=title, public_url=public_url,
                         templates_path=PAGE)
        self.tabs: set[asyncio.Task[object]] = set()
        self.opened = 0
        self.address = address

    def initialize_logging(self) -> None:
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def on_startup(self, app: web.Application) -> None:
        _say(f"Serving backprop-tui at {self.address}: open it in a browser. Ctrl+C stops "
             "the server and every tab's app (each saves its session first).")

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:  # not a tab: a stray request
            raise web.HTTPBadRequest(text="A browser tab's websocket only.")
        task = asyncio.current_task()
        assert task is not None
        self.opened += 1
        number = self.opened
        try:
            self.tabs.add(task)
            _say(f"Tab {number} opened ({len(self.tabs)} open)")
            return await super().handle_websocket(request)
        finally:
            self.tabs.discard(task)
            _say(f"Tab {number} closed ({len(self.tabs)} open)")

    async def on_shutdown(self, app: web.Application) -> None:
        """Each tab's handler cancelled: it tells its app to quit, waits for it, and closes
        the websocket."""
        tabs = list(self.tabs)
        if tabs:
            _say("Stopping: " + ("the open tab's app saves its session and quits" if len(tabs) == 1
                                 else f"the {len(tabs)} open tabs' apps save their sessions and "
                                 "quit"))
        for task in tabs:
            task.cancel()
        if tabs:  # an app that does not quit is not waited for past GRACE: see end_children
            await asyncio.wait(tabs, timeout=GRACE)
        deadline = time.monotonic() + GRACE
        while children() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # the exits' callbacks run while the loop still does
