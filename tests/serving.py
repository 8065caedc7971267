"""A test app on a real loopback socket, in the test's own event loop."""

import asyncio
from typing import Any

import uvicorn


async def serve(app: Any) -> tuple[uvicorn.Server, "asyncio.Task[None]", str]:
    """``app`` on a free loopback port, in this event loop: the server, its task, its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, f"http://127.0.0.1:{port}"
