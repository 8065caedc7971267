"""Every SQL table module, imported once so ``metadata`` is complete (Alembic, tests).

Imported only by entry points and migrations (the import contract, ``.importlinter``,
keeps every domain from reaching it): it knows every domain."""

from syllabus.access import models as access_models
from syllabus.ai import models as ai_models
from syllabus.assessment import models as assessment_models
from syllabus.catalog import models as catalog_models
from syllabus.commerce import models as commerce_models
from syllabus.competencies import models as competencies_models
from syllabus.db.sql import metadata
from syllabus.exams import models as exams_models
from syllabus.homework import models as homework_models
from syllabus.idempotency import models as idempotency_models
from syllabus.identity import models as identity_models
from syllabus.learning import models as learning_models
from syllabus.preferences import models as preferences_models
from syllabus.progress import models as progress_models
from syllabus.studyplans import models as studyplans_models

__all__ = [
    "access_models",
    "ai_models",
    "assessment_models",
    "catalog_models",
    "commerce_models",
    "competencies_models",
    "exams_models",
    "homework_models",
    "idempotency_models",
    "identity_models",
    "learning_models",
    "metadata",
    "preferences_models",
    "progress_models",
    "studyplans_models",
]
