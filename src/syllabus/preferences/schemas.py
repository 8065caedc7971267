"""Preferences as the API speaks them. Every field has a documented default (a user who
never changed anything reads these), and a PATCH changes only the fields it sends."""

from datetime import time
from typing import Annotated, Literal

from pydantic import Field, field_validator

from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.preferences.models import MAX_DAILY_GOAL_MINUTES, MAX_SPEECH_RATE, MIN_SPEECH_RATE

Language = Literal["ru", "en"]
Theme = Literal["system", "light", "dark"]
Voice = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
        description="A text-to-speech voice name, as the client's speech engine calls it.",
        examples=["ru-RU-Standard-A", "alloy"],
    ),
]
SpeechRate = Annotated[float, Field(ge=MIN_SPEECH_RATE, le=MAX_SPEECH_RATE)]
DailyGoal = Annotated[int, Field(ge=0, le=MAX_DAILY_GOAL_MINUTES)]


class PreferencesPublic(OutputSchema):
    language: Language = Field(default="en", description="Interface language.")
    voice: str | None = Field(default=None, description="Null: the client's default voice.")
    speech_rate: float = Field(default=1.0, description="1.0 is normal speed.")
    autoplay: bool = Field(default=False, description="Read the tutor's replies aloud.")
    daily_goal_minutes: int = Field(default=20, description="0: no goal.")
    reminder_time: time | None = Field(
        default=None,
        description="When to remind, as a local time in the user's time zone (their "
        "profile's time_zone); null: no reminder.",
    )
    theme: Theme = "system"
    notify_email: bool = Field(default=False, description="Opt-in: off until the user says so.")
    notify_push: bool = Field(default=False, description="Opt-in: off until the user says so.")


DEFAULTS = PreferencesPublic()


class PreferencesUpdate(InputSchema):
    """Only the fields sent change; ``null`` clears ``voice`` and ``reminder_time`` and is
    refused for the others."""

    language: Language | None = None
    voice: Voice | None = None
    speech_rate: SpeechRate | None = None
    autoplay: bool | None = None
    daily_goal_minutes: DailyGoal | None = None
    reminder_time: time | None = None
    theme: Theme | None = None
    notify_email: bool | None = None
    notify_push: bool | None = None

    @field_validator("reminder_time")
    @classmethod
    def _naive(cls, value: time | None) -> time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("a local time without an offset: the user's time zone applies")
        return value

    def changes(self) -> dict[str, object]:
        """The fields the client sent; a ``null`` for a field that cannot be empty is an
        error the caller reports."""
        return self.model_dump(exclude_unset=True)


NULLABLE = frozenset({"voice", "reminder_time"})
