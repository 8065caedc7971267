"""The API process freezes what it built at start (gc.freeze), so the cyclic collector's
full passes under load scan only what requests create; shutdown gives it back."""

import gc

from syllabus.config import Settings
from syllabus.main import create_app


async def test_startup_objects_are_frozen_while_the_app_runs(settings: Settings) -> None:
    app = create_app(settings)
    gc.unfreeze()  # whatever another running app of this session froze
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
        assert gc.collect(2) < gc.get_freeze_count()  # a full pass no longer walks them
    assert gc.get_freeze_count() == 0
