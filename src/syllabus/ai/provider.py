"""One provider over the OpenAI-compatible chat-completions API (hosted APIs, vLLM,
Ollama, llama.cpp server), through the official ``openai`` SDK: its timeouts and its
retries with exponential backoff, plus a circuit breaker so a dead server costs one fast
503 instead of a timeout per request."""

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from syllabus.ai.errors import AiNotConfigured, AiUnavailable
from syllabus.config import Settings

if TYPE_CHECKING:  # the SDK is imported only where a model server is configured (~14 MiB)
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam

logger = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
"""A server that reports no usage is charged by this estimate (OpenAI's rule of thumb)."""


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN) if text else 0


class CircuitBreaker:
    """Closed → open after ``failures`` consecutive failures; open refuses at once for
    ``reset_seconds``; then one trial call (half-open) closes it again or re-opens it.
    Per process: each worker learns on its own that the server is down."""

    def __init__(self, *, failures: int, reset_seconds: float) -> None:
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._consecutive = 0
        self._opened_at: float | None = None

    def check(self) -> None:
        if self._opened_at is None:
            return
        left = self._opened_at + self.reset_seconds - time.monotonic()
        if left > 0:
            raise AiUnavailable(
                "the model server failed repeatedly; calls are paused", retry_after=int(left) + 1
            )
        self._opened_at = None  # half-open: let one call through
        self._consecutive = self.failures - 1

    def succeeded(self) -> None:
        self._consecutive = 0
        self._opened_at = None

    def failed(self) -> None:
        self._consecutive += 1
        if self._consecutive >= self.failures:
            self._opened_at = time.monotonic()
            logger.warning("model server circuit opened after %d failures", self._consecutive)


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str


@dataclass(frozen=True)
class Delta:
    """A piece of a streamed reply; the last one carries the usage (``done``)."""

    text: str
    done: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0


Failure = Literal["timeout", "error"]


class ProviderFailed(Exception):
    """The model server did not answer, or answered with an error, after the retries."""

    def __init__(self, kind: Failure, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ModelProvider:
    def __init__(self, settings: Settings) -> None:
        self.model = settings.ai_model
        self.breaker = CircuitBreaker(
            failures=settings.ai_breaker_failures, reset_seconds=settings.ai_breaker_reset_seconds
        )
        self._client: AsyncOpenAI | None = None
        if settings.ai_base_url is not None:
            from openai import AsyncOpenAI as Client

            key = settings.ai_api_key.get_secret_value() if settings.ai_api_key else "none"
            self._client = Client(
                base_url=settings.ai_base_url,
                api_key=key,
                timeout=settings.ai_timeout_seconds,
                max_retries=settings.ai_max_retries,
            )

    @property
    def configured(self) -> bool:
        return self._client is not None

    def ready(self) -> "AsyncOpenAI":
        """The client, if a server is configured and the circuit lets a call through."""
        if self._client is None:
            raise AiNotConfigured
        self.breaker.check()
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    def _failure(self, error: Exception) -> ProviderFailed:
        self.breaker.failed()
        from openai import APITimeoutError

        kind: Failure = "timeout" if isinstance(error, APITimeoutError) else "error"
        logger.warning("model server call failed (%s): %r", kind, error)
        return ProviderFailed(
            kind, f"the model server {'timed out' if kind == 'timeout' else 'failed'}"
        )

    async def complete(self, messages: list["ChatCompletionMessageParam"]) -> Completion:
        from openai import OpenAIError

        client = self.ready()
        try:
            response = await client.chat.completions.create(model=self.model, messages=messages)
        except OpenAIError as error:
            raise self._failure(error) from error
        self.breaker.succeeded()
        text = response.choices[0].message.content or "" if response.choices else ""
        usage = response.usage
        prompt = usage.prompt_tokens if usage else estimate_tokens(str(messages))
        completion = usage.completion_tokens if usage else estimate_tokens(text)
        return Completion(text, prompt, completion, response.model or self.model)

    async def stream(self, messages: list["ChatCompletionMessageParam"]) -> AsyncIterator[Delta]:
        """The reply as it is generated. A failure before or during the stream raises
        :class:`ProviderFailed`; what arrived until then has been yielded."""
        client = self.ready()
        received = ""
        try:
            chunks = await client.chat.completions.create(
                model=self.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
            prompt = completion = 0
            async for chunk in chunks:
                if chunk.usage is not None:
                    prompt, completion = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
                for choice in chunk.choices:
                    if choice.delta.content:
                        received += choice.delta.content
                        yield Delta(choice.delta.content)
        except Exception as error:  # the SDK's errors, and its transport's mid-stream ones
            raise self._failure(error) from error
        self.breaker.succeeded()
        yield Delta(
            "",
            done=True,
            prompt_tokens=prompt or estimate_tokens(str(messages)),
            completion_tokens=completion or estimate_tokens(received),
        )
