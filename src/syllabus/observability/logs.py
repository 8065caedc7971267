"""Log records as one JSON object per line on stderr (or readable text in ``dev``), each
carrying the id of the request it was written in. Standard library ``logging`` only.

:func:`logging_config` is a ``dictConfig`` dictionary rather than code, because uvicorn
applies it again in each worker process it spawns (``--workers N``).
"""

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from syllabus.config import Settings
from syllabus.observability.context import current_request_id

# Everything a LogRecord carries by itself; any other attribute came in ``extra=``.
# ``color_message`` is uvicorn's ANSI copy of its own message.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
    "request_id",
    "request_tag",
}


class RequestIdFilter(logging.Filter):
    """Stamps ``record.request_id`` (``None`` outside a request) for the formatters.
    Attached to the handler, so records of every logger get it, uvicorn's included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


def _request_id(record: logging.LogRecord) -> str | None:
    request_id: str | None = getattr(record, "request_id", None) or current_request_id.get()
    return request_id


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id"?, "exc_info"?, "stack_info"?,
    …extra}``: ``ts`` in ISO 8601 UTC with milliseconds, ``exc_info`` the formatted
    traceback, ``extra`` every field passed as ``extra=`` (values that are not JSON
    become strings). One line per record: newlines inside strings are escaped."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger [request id]: message`` for a developer's terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = _request_id(record)
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().format(record)


def logging_config(settings: Settings) -> dict[str, Any]:
    """Root logger to stderr at ``SYLLABUS_LOG_LEVEL`` in ``SYLLABUS_LOG_FORMAT``; uvicorn's
    loggers go through the same handler, and its access log is off (the service writes its
    own, ``syllabus.access``, with the request id and the route)."""
    level = settings.log_level.upper()
    formatter = JsonFormatter if settings.effective_log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Apply :func:`logging_config` to this process (give uvicorn a fresh copy too)."""
    logging.config.dictConfig(logging_config(settings))
