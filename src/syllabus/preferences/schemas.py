"""Preferences as the API speaks them. Every field has a documented default (a user who
never changed anything reads these), and a PATCH changes only the fields it sends."""

from datetime import time
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic.json_schema import WithJsonSchema

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
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
            "description": "A local time of day, HH:MM or HH:MM:SS, without an offset.",
            "examples": ["19:30"],
        }
    ),
]


class PreferencesPublic(OutputSchema):
    language: Language = Field(default="en", description="Interface language.")
    voice: str | None = Field(default=None, description="Null: the client's default voice.")
    speech_rate: float = Field(default=1.0, description="1.0 is normal speed.")
    autoplay: bool = Field(default=False, description="Read the tutor's replies aloud.")
    daily_goal_minutes: int = Field(default=20, description="0: no goal.")
    reminder_time: LocalTime | None = Field(
        default=None,
        description="When to remind, as a local time in the user's time zone (their "
        "profile's time_zone); null: no reminder.",
    )
    theme: Theme = "system"
    notify_email: bool = Field(default=False, description="Opt-in: off until the user says so.")
    notify_push: bool = Field(default=False, description="Opt-in: off until the user says so.")


DEFAULTS = PreferencesPublic()


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


OPTIONAL: Any = Field(default=None, json_schema_extra=_without_default)
"""The default of a field that may be left out but is not nullable: a ``null`` sent is a
422 naming the field, and the schema shows neither a null type nor a null default. (The
default itself is never validated, so ``changes()`` leaves out what was not sent.)"""


class PreferencesUpdate(InputSchema):
    """Only the fields sent change; ``null`` clears ``voice`` and ``reminder_time`` and is
    refused for the others (their schemas are not nullable: absent is fine, null is 422)."""

    language: Language = OPTIONAL
    voice: Voice | None = None
    speech_rate: SpeechRate = OPTIONAL
    autoplay: bool = OPTIONAL
    daily_goal_minutes: DailyGoal = OPTIONAL
    reminder_time: LocalTime | None = None
    theme: Theme = OPTIONAL
    notify_email: bool = OPTIONAL
    notify_push: bool = OPTIONAL

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
