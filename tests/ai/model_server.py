"""A small OpenAI-compatible model server for the tests: ``POST /v1/chat/completions``,
streaming (server-sent events ending with ``data: [DONE]``) and not, as the API documents
it. It records every request it receives, and can be told to fail, stall or cut a stream
short. The provider code under test is the real ``openai`` client talking HTTP to it."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.serving import serve

Mode = Literal["ok", "fail", "slow", "cut"]


@dataclass
class ModelServer:
    url: str = ""
    reply: str = "A resource is a noun [block:placeholder]."
    mode: Mode = "ok"
    fail_times: int = 0
    """In mode ``ok``: answer 500 to this many requests first (then succeed)."""
    slow_seconds: float = 5.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.reply = "A resource is a noun."
        self.mode = "ok"
        self.fail_times = 0
        self.requests.clear()

    def sent_text(self) -> str:
        """Everything every request carried, as one string (what the model was told)."""
        return json.dumps(self.requests, ensure_ascii=False)

    def _chunk(self, delta: dict[str, Any], *, usage: dict[str, int] | None = None) -> bytes:
        body = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "test-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}] if delta else [],
            "usage": usage,
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    async def _stream(self, words: list[str], prompt_tokens: int) -> AsyncIterator[bytes]:
        yield self._chunk({"role": "assistant", "content": ""})
        for n, word in enumerate(words):
            if self.mode == "cut" and n == 2:
                raise ConnectionResetError("the model server went away mid-stream")
            yield self._chunk({"content": word})
            await asyncio.sleep(0)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        }
        yield self._chunk({}, usage=usage)
        yield b"data: [DONE]\n\n"

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if self.mode == "fail" or self.fail_times > 0:
            self.fail_times = max(0, self.fail_times - 1)
            return JSONResponse(
                {"error": {"message": "model crashed", "type": "server_error"}}, status_code=500
            )
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in body["messages"]) // 4
        words = [word + " " for word in self.reply.split(" ")]
        words[-1] = words[-1].rstrip()
        if body.get("stream"):
            return StreamingResponse(
                self._stream(words, prompt_tokens), media_type="text/event-stream"
            )
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "test-model",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(words),
                    "total_tokens": prompt_tokens + len(words),
                },
            }
        )


async def start_model_server() -> tuple[ModelServer, uvicorn.Server, "asyncio.Task[None]"]:
    model = ModelServer()
    app = Starlette(routes=[Route("/v1/chat/completions", model.completions, methods=["POST"])])
    server, task, url = await serve(app)
    model.url = url + "/v1"
    return model, server, task


class ThreadedModelServer:
    """The model server on an event loop of its own, in a thread: for tests whose app runs
    outside the session's loop (the fuzzer's schemathesis drives the app synchronously)."""

    def __init__(self) -> None:
        import threading

        self.model = ModelServer()
        app = Starlette(
            routes=[Route("/v1/chat/completions", self.model.completions, methods=["POST"])]
        )
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ModelServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the model server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.model.url = f"http://127.0.0.1:{port}/v1"
        return self.model

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
