"""A real browser for the pages people open: headless Chromium driven over the DevTools
protocol (a WebSocket; ``websockets`` comes with ``uvicorn[standard]``), and the app
served over a real socket by uvicorn in the test's event loop.

Chromium is a system package: ``make test`` installs it where it may (root with apt-get,
as ``make wrk`` does); where it is missing, a browser check fails saying so, never skips.
"""

import asyncio
import json
import os
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from fastapi import FastAPI

from tests.serving import serve

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0


def chromium_path() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "Chromium is needed for the browser checks: `make test` installs it where it may "
        "(root with apt-get); otherwise `apt-get install chromium`",
        pytrace=False,
    )


class Page:
    """One tab, spoken to in DevTools protocol commands; events are kept until waited for."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.last_id = 0
        self.events: list[dict[str, Any]] = []

    async def _receive(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), TIMEOUT))
        return message

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        await self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = await self._receive()
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    async def event(self, method: str) -> dict[str, Any]:
        for kept in self.events:
            if kept.get("method") == method:
                self.events.remove(kept)
                return kept
        while True:
            message = await self._receive()
            if message.get("method") == method:
                return message
            self.events.append(message)

    async def goto(self, url: str) -> None:
        self.events.clear()
        await self.send("Page.navigate", url=url)
        await self.event("Page.loadEventFired")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def click(self, selector: str) -> None:
        """A mouse press and release at the middle of the element, as a person clicks,
        then the page it leads to, loaded."""
        box = await self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        self.events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )
        await self.event("Page.loadEventFired")


@asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Page]:
    """A headless Chromium with a throwaway profile, and its first tab."""
    arguments = [
        "--headless=new",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
    ]
    if os.geteuid() == 0:
        arguments.append("--no-sandbox")  # Chromium refuses its sandbox to root
    process = await asyncio.create_subprocess_exec(
        chromium_path(),
        *arguments,
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(int(TIMEOUT * 10)):
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with httpx.AsyncClient() as http:
            targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        [tab] = [target for target in targets if target["type"] == "page"]
        async with websockets.connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Page(socket)
            await page.send("Page.enable")
            yield page
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        await process.wait()


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app (its lifespan already run by the fixture) on a real socket, in this event
    loop; its origin."""
    server, task, origin = await serve(app)  # port 0: bound at once, nobody can take it first
    try:
        yield origin
    finally:
        server.should_exit = True
        await task
