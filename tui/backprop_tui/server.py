"""textual-serve's Server, made to stop its tabs' apps when it stops (imported only by
`backprop-tui serve`).

textual-serve's own Server, told to stop while a browser tab is open, waits for the tab to
close its websocket (aiohttp gives it a minute, then drops it): its app processes live on
meanwhile. This one cancels every tab's handler as it shuts down, which tells each app to
quit (so each saves its session) and waits for it to end.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from textual_serve.server import Server


class TabServer(Server):
    """textual-serve's Server, whose shutdown ends every tab's app."""

    def __init__(self, command: str, host: str, port: int, title: str,
                 public_url: str | None) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.tabs: set[asyncio.Task[object]] = set()

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        task = asyncio.current_task()
        assert task is not None
        self.tabs.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.tabs.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        """Each tab's handler cancelled: it tells its app to quit, waits for it, and closes
        the websocket."""
        tabs = list(self.tabs)
        for task in tabs:
            task.cancel()
        await asyncio.gather(*tabs, return_exceptions=True)
