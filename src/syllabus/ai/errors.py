"""What the AI layer refuses with: each a status family and a code (docs/errors.md)."""

from http import HTTPStatus

from syllabus.errors import AppError, Conflict, NotFound, ServiceUnavailable, TooManyRequests

BASE_URL_SETTING = "SYLLABUS_AI_BASE_URL"


class AiNotConfigured(ServiceUnavailable):
    """No model server is configured (`SYLLABUS_AI_BASE_URL` unset): the features that need
    a model refuse, naming the setting in `setting`; everything else works."""

    code = "ai-not-configured"
    title = "AI not configured"

    def __init__(self) -> None:
        super().__init__(
            f"the AI tutor needs a model server: set {BASE_URL_SETTING} (docs/ai.md)",
            setting=BASE_URL_SETTING,
        )


class AiUnavailable(ServiceUnavailable):
    """The model server failed repeatedly and calls are paused (the circuit is open); retry
    after `Retry-After` seconds."""

    code = "ai-unavailable"
    title = "AI unavailable"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class TokenBudgetSpent(TooManyRequests):
    """The learner's daily AI token budget (`SYLLABUS_AI_DAILY_TOKEN_BUDGET`) is spent; it
    renews at 00:00 UTC (`Retry-After`)."""

    code = "ai-budget-spent"
    title = "AI budget spent"

    def __init__(self, *, budget: int, retry_after: int) -> None:
        super().__init__(
            f"today's AI budget of {budget} tokens is spent; it renews at 00:00 UTC",
            headers={"Retry-After": str(retry_after)},
        )


class ChatLocked(AppError):
    """The tutor is closed while its learner has a quiz or exam attempt of the course open,
    so it cannot be asked for the answers in the middle of an attempt: submit it first."""

    status = HTTPStatus.LOCKED
    title = "Chat locked"
    code = "chat-locked"


class ChatSessionEnded(Conflict):
    """A message was sent to a chat session that has ended: open a new one."""

    code = "chat-session-ended"
    title = "Chat session ended"


class AiNoteMissing(NotFound):
    """The lesson exists and may be read, but no AI note has been made for it yet
    (`syllabus notes generate` makes them)."""

    code = "ai-note-missing"
    title = "No AI note yet"
