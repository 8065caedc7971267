"""Hooks: how a lower layer lets a higher one react in the same transaction without
importing it (the import contract forbids the back-arrow; see docs/architecture.md).

The lower layer defines a :class:`Hook` next to the code that fires it and calls it
with plain data and the caller's session; the higher layer writes the handler; ``main``
(``syllabus.main.wire``) registers every handler once at start-up, for the API and the
CLI alike. A hook marked ``required`` refuses to fire with no handler, so a process that
was never wired fails loudly instead of silently skipping the reaction.

    # lower layer (content/loader/load.py)
    achievements_loaded = Hook[[AsyncSession, list[AchievementData]]]("...", required=True)
    await achievements_loaded.fire(session, achievements)

    # higher layer (progress/service.py)
    async def apply_achievements(session, achievements) -> None: ...

    # main.wire()
    achievements_loaded.register(progress.apply_achievements)
"""

from collections.abc import Awaitable, Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class HookNotWired(RuntimeError):
    """A required hook fired before any handler was registered (``main.wire()`` not run)."""


class Hook(Generic[P]):
    """A named extension point: handlers run in registration order, awaited one after
    another, in the caller's transaction; an exception in one propagates (and so rolls
    the caller's unit of work back)."""

    def __init__(self, name: str, *, required: bool = False) -> None:
        self.name = name
        self.required = required
        self._handlers: list[Callable[P, Awaitable[None]]] = []

    def register(self, handler: Callable[P, Awaitable[None]]) -> None:
        """Add ``handler``; registering the same one again changes nothing (``wire()``
        may run once per app the tests build)."""
        if handler not in self._handlers:
            self._handlers.append(handler)

    @property
    def handlers(self) -> tuple[Callable[P, Awaitable[None]], ...]:
        return tuple(self._handlers)

    async def fire(self, *args: P.args, **kwargs: P.kwargs) -> None:
        if self.required and not self._handlers:
            raise HookNotWired(f"hook {self.name!r} has no handler: call syllabus.main.wire()")
        for handler in self._handlers:
            await handler(*args, **kwargs)
