"""``syllabus doctor``: reconciles PostgreSQL with MongoDB, reports drift by kind, and
repairs only what is safe (the catalog the loader derives; never learner rows)."""
