"""The id of the request being served, for every log record written while it is."""

from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
"""Set by the app's outer layer (:class:`~syllabus.edge.Edge`) for the length of one HTTP
request; ``None`` outside requests (start-up, CLI commands)."""
