"""What the AI layer refuses with, each a status and a machine-readable code."""

from http import HTTPStatus

from syllabus.errors import AppError, ServiceUnavailable, TooManyRequests

BASE_URL_SETTING = "SYLLABUS_AI_BASE_URL"


class AiNotConfigured(ServiceUnavailable):
    """No model server is configured: the features that need one say which setting."""

    def __init__(self) -> None:
        super().__init__(
            f"the AI tutor needs a model server: set {BASE_URL_SETTING} (docs/ai.md)",
            code="ai-not-configured",
            setting=BASE_URL_SETTING,
        )


class AiUnavailable(ServiceUnavailable):
    """The model server failed too often lately (the circuit is open), or failed now."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, code="ai-unavailable")


class TokenBudgetSpent(TooManyRequests):
    def __init__(self, *, budget: int, retry_after: int) -> None:
        super().__init__(
            f"today's AI budget of {budget} tokens is spent; it renews at 00:00 UTC",
            headers={"Retry-After": str(retry_after)},
            code="ai-budget-spent",
        )


class ChatLocked(AppError):
    """The tutor is closed while its learner has a quiz or exam of the course open, so
    it cannot be asked for the answers in the middle of an attempt."""

    status = HTTPStatus.LOCKED
    title = "Locked"
